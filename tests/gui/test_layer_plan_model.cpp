// LayerPlanModel: drops of mixer kinds (onto one layer, onto a selection), undo/redo exactness,
// settings edits folding into one undo step, and refusal of foreign payloads.
#include <QItemSelectionModel>
#include <QMimeData>
#include <QtTest>

#include "views/layer_plan_model.h"

using namespace hylo;
using namespace hylo::views;

static ModelConfig teacher_stack(int n) {
  nlohmann::json j = {{"model_type", "llama"},        {"vocab_size", 1000},
                      {"hidden_size", 256},            {"intermediate_size", 512},
                      {"num_hidden_layers", n},        {"num_attention_heads", 4},
                      {"num_key_value_heads", 2},      {"head_dim", 64},
                      {"max_position_embeddings", 4096}};
  return ModelConfig::from_json(j, "teacher/config.json");
}

static std::vector<MixerKind> kinds_of(const LayerPlanModel& m) {
  std::vector<MixerKind> out;
  for (int r = 0; r < m.rowCount(); ++r)
    out.push_back(static_cast<MixerKind>(m.index(r).data(LayerPlanModel::KindRole).toInt()));
  return out;
}

class TestLayerPlanModel : public QObject {
  Q_OBJECT
 private slots:
  void drop_onto_one_unselected_layer() {
    LayerPlanModel m;
    m.set_teacher(teacher_stack(16));
    QItemSelectionModel sel(&m);
    m.set_selection_model(&sel);
    sel.select(m.index(3), QItemSelectionModel::Select);  // selected, but not the drop target
    std::unique_ptr<QMimeData> mime(LayerPlanModel::mime_for_kind(MixerKind::MLA));
    QVERIFY(m.canDropMimeData(mime.get(), Qt::CopyAction, -1, 0, m.index(5)));
    QVERIFY(m.dropMimeData(mime.get(), Qt::CopyAction, -1, 0, m.index(5)));
    auto expect = std::vector<MixerKind>(16, MixerKind::Attention);
    expect[5] = MixerKind::MLA;
    QVERIFY(kinds_of(m) == expect);
    QCOMPARE(m.index(5).data(LayerPlanModel::ChangedRole).toBool(), true);
    QCOMPARE(m.index(3).data(LayerPlanModel::ChangedRole).toBool(), false);
    // The row shows the resolved student layer: MLA heads come from the teacher.
    QCOMPARE(m.layer_spec(5).mla.num_heads, int64_t(4));
    QVERIFY(m.index(5).data(LayerPlanModel::SizesRole).toString().contains("4 heads"));
    QCOMPARE(m.undo_stack()->count(), 1);
  }

  void drop_onto_selection_is_one_undo_step() {
    LayerPlanModel m;
    m.set_teacher(teacher_stack(16));
    QItemSelectionModel sel(&m);
    m.set_selection_model(&sel);
    const QList<int> picked{1, 5, 10, 14};
    for (int r : picked) sel.select(m.index(r), QItemSelectionModel::Select);
    std::unique_ptr<QMimeData> mime(LayerPlanModel::mime_for_kind(MixerKind::Mamba2));
    QVERIFY(m.dropMimeData(mime.get(), Qt::CopyAction, -1, 0, m.index(10)));
    for (int r = 0; r < 16; ++r)
      QCOMPARE(m.kind(r), picked.contains(r) ? MixerKind::Mamba2 : MixerKind::Attention);
    QCOMPARE(m.undo_stack()->count(), 1);
    m.undo_stack()->undo();
    QVERIFY(kinds_of(m) == std::vector<MixerKind>(16, MixerKind::Attention));
  }

  void dragging_a_layer_copies_its_kind() {
    LayerPlanModel m;
    m.set_teacher(teacher_stack(4));
    m.assign({0}, MixerKind::GDN);
    std::unique_ptr<QMimeData> mime(m.mimeData({m.index(0)}));
    QVERIFY(mime);
    QVERIFY(mime->hasFormat(LayerPlanModel::kMixerMimeType));
    QVERIFY(m.dropMimeData(mime.get(), Qt::CopyAction, 2, 0, QModelIndex()));  // row form
    QCOMPARE(m.kind(2), MixerKind::GDN);
  }

  void foreign_or_out_of_range_drops_are_refused() {
    LayerPlanModel m;
    m.set_teacher(teacher_stack(4));
    QMimeData text;
    text.setText("mla");
    QVERIFY(!m.canDropMimeData(&text, Qt::CopyAction, -1, 0, m.index(1)));
    QVERIFY(!m.dropMimeData(&text, Qt::CopyAction, -1, 0, m.index(1)));
    QMimeData bogus;
    bogus.setData(LayerPlanModel::kMixerMimeType, "transformer-xl");
    QVERIFY(!m.dropMimeData(&bogus, Qt::CopyAction, -1, 0, m.index(1)));
    std::unique_ptr<QMimeData> mime(LayerPlanModel::mime_for_kind(MixerKind::MLA));
    QVERIFY(!m.dropMimeData(mime.get(), Qt::CopyAction, 4, 0, QModelIndex()));
    QVERIFY(!m.dropMimeData(mime.get(), Qt::CopyAction, -1, 0, QModelIndex()));
    QCOMPARE(m.undo_stack()->count(), 0);
  }

  void undo_redo_restore_exactly() {
    LayerPlanModel m;
    m.set_teacher(teacher_stack(8));
    std::vector<PlanState> history{m.state()};
    m.assign({1, 5}, MixerKind::MLA);
    history.push_back(m.state());
    m.assign({0, 2, 3, 4, 6, 7}, MixerKind::Mamba2);
    history.push_back(m.state());
    MlaSettings mla = m.state().mla;
    mla.kv_lora_rank = 256;
    m.set_mla(mla, 1);
    history.push_back(m.state());
    GdnSettings gdn = m.state().gdn;
    gdn.num_heads = 12;
    m.set_gdn(gdn, 2);
    history.push_back(m.state());
    QCOMPARE(m.undo_stack()->count(), 4);
    for (int i = 3; i >= 0; --i) {
      m.undo_stack()->undo();
      QVERIFY2(m.state() == history[static_cast<size_t>(i)], qPrintable(QString::number(i)));
    }
    for (int i = 1; i <= 4; ++i) {
      m.undo_stack()->redo();
      QVERIFY2(m.state() == history[static_cast<size_t>(i)], qPrintable(QString::number(i)));
    }
  }

  void settings_edits_with_one_key_merge() {
    LayerPlanModel m;
    m.set_teacher(teacher_stack(4));
    const PlanState start = m.state();
    MlaSettings mla = start.mla;
    for (int64_t rank : {136, 144, 152, 160}) {
      mla.kv_lora_rank = rank;
      m.set_mla(mla, 7);
    }
    QCOMPARE(m.undo_stack()->count(), 1);
    QCOMPARE(m.state().mla.kv_lora_rank, int64_t(160));
    mla.qk_rope_head_dim = 64;
    m.set_mla(mla, 8);  // another field: a new step
    QCOMPARE(m.undo_stack()->count(), 2);
    m.undo_stack()->undo();
    m.undo_stack()->undo();
    QVERIFY(m.state() == start);
  }

  void plan_changed_fires_on_edit_undo_redo() {
    LayerPlanModel m;
    m.set_teacher(teacher_stack(4));
    QSignalSpy spy(&m, &LayerPlanModel::plan_changed);
    m.assign({2}, MixerKind::GDN);
    m.undo_stack()->undo();
    m.undo_stack()->redo();
    QCOMPARE(spy.count(), 3);
    m.assign({2}, MixerKind::GDN);  // no change: no undo step, no signal
    QCOMPARE(spy.count(), 3);
    QCOMPARE(m.undo_stack()->count(), 1);
  }

  void new_teacher_clears_history() {
    LayerPlanModel m;
    m.set_teacher(teacher_stack(4));
    m.assign({0}, MixerKind::MLA);
    m.set_teacher(teacher_stack(6));
    QCOMPARE(m.rowCount(), 6);
    QCOMPARE(m.undo_stack()->count(), 0);
    QVERIFY(kinds_of(m) == std::vector<MixerKind>(6, MixerKind::Attention));
  }
};

QTEST_MAIN(TestLayerPlanModel)
#include "test_layer_plan_model.moc"
