// MemoryView on Llama-3.2-1B and HyLo's 4MLA12M2: per-type bytes equal the hand count
// (GUIDE §4: 2*8*64 elements per token per attention layer, 128+32 per MLA layer, bf16), the
// per-type parts add up to hylo_spec's total, and measured points are drawn where they were taken.
#include <QTableWidget>
#include <qcustomplot.h>
#include <QtTest>

#include "core/spec/estimates.h"
#include "core/spec/plan.h"
#include "tests/gui/screenshot.h"
#include "views/memory_view.h"
#include "views/plan_numbers.h"

using namespace hylo;
using namespace hylo::views;

static ModelConfig llama_1b() {
  return ModelConfig::from_json(nlohmann::json::parse(R"({
    "model_type": "llama", "vocab_size": 128256, "hidden_size": 2048, "intermediate_size": 8192,
    "num_hidden_layers": 16, "num_attention_heads": 32, "num_key_value_heads": 8, "head_dim": 64,
    "max_position_embeddings": 131072, "rope_theta": 500000.0, "tie_word_embeddings": true})"),
                                "llama-1b/config.json");
}

class TestMemoryView : public QObject {
  Q_OBJECT
 private slots:
  void bytes_by_type_match_the_hand_count() {
    const ModelConfig teacher = llama_1b();
    const ModelConfig student = LayerPlan::from_yaml(R"(
default: mamba2
layers: {1: mla, 5: mla, 10: mla, 14: mla}
mla: {kv_lora_rank: 128, q_lora_rank: 1344, qk_rope_head_dim: 32, qk_nope_head_dim: 32, v_head_dim: 64}
)").resolve(teacher);
    const std::int64_t L = 65536;
    QCOMPARE(cache_bytes_of_kind(teacher, MixerKind::Attention, L), 16.0 * 2 * 8 * 64 * L * 2);  // 2 GiB
    QCOMPARE(cache_bytes_of_kind(student, MixerKind::MLA, L), 4.0 * (128 + 32) * L * 2);
    QCOMPARE(cache_bytes_of_kind(student, MixerKind::Attention, L), 0.0);
    const double parts = cache_bytes_of_kind(student, MixerKind::MLA, L) +
                         cache_bytes_of_kind(student, MixerKind::Mamba2, L);
    QCOMPARE(parts, cache_bytes_at(student, L));
    QVERIFY(cache_bytes_of_kind(student, MixerKind::Mamba2, L) == cache_bytes_of_kind(student, MixerKind::Mamba2, 1024));

    MemoryView view;
    view.resize(1000, 650);
    view.set_teacher(teacher, "Llama-3.2-1B");
    view.set_students({{"4MLA12M2", student}});
    view.set_measured({{"4MLA12M2", {{4096, 4.0 * 160 * 4096 * 2 * 1.05}, {16384, 4.0 * 160 * 16384 * 2 * 1.02}}}});
    // teacher, student, student's MLA and Mamba2 parts, measured points
    QCOMPARE(view.plot()->graphCount(), 5);
    QCPGraph* measured = view.plot()->graph(4);
    QCOMPARE(measured->dataCount(), 2);
    QCOMPARE(measured->data()->at(0)->key, 4096.0);
    QCOMPARE(view.table()->rowCount(), 2);
    QCOMPARE(view.table()->item(0, 1)->text(), QString("2.00 GiB"));  // at 64K
    QCOMPARE(view.table()->item(1, 1)->text(), QString("-"));
    save_screenshot(&view, "memory");
  }
};

QTEST_MAIN(TestMemoryView)
#include "test_memory_view.moc"
