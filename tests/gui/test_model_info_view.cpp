// ModelInfoView and MainWindow: the facts shown for a tiny Llama config.json written here match
// numbers computed from its fields by hand; bad checkpoints give a dialog and a log line, no crash.
#include <QMessageBox>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

#include "tests/gui/screenshot.h"
#include "views/format.h"
#include "views/log_panel.h"
#include "views/main_window.h"
#include "views/model_info_view.h"
#include "views/planner_view.h"
#include "views/layer_plan_model.h"

using namespace hylo::views;

// Tiny Llama: V 1000, C 64, L 4, H 4, Hkv 2, d 16, I 160, untied.
static const char* kTinyLlama = R"({
  "architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 1000,
  "hidden_size": 64, "intermediate_size": 160, "num_hidden_layers": 4,
  "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16,
  "max_position_embeddings": 131072, "rms_norm_eps": 1e-5, "rope_theta": 500000.0,
  "rope_scaling": {"rope_type": "llama3", "factor": 32.0, "original_max_position_embeddings": 8192,
                   "low_freq_factor": 1.0, "high_freq_factor": 4.0},
  "tie_word_embeddings": false, "torch_dtype": "bfloat16"})";

static void write_file(const QString& path, const QByteArray& text) {
  QFile f(path);
  QVERIFY(f.open(QIODevice::WriteOnly));
  f.write(text);
}

class TestModelInfoView : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() {
    QCoreApplication::setOrganizationName("HyLoTest");
    QCoreApplication::setApplicationName("test_model_info_view");
    QSettings().clear();
  }

  void shows_the_numbers_of_a_tiny_llama() {
    QTemporaryDir dir;
    write_file(dir.filePath("config.json"), kTinyLlama);
    ModelInfoView view;
    QSignalSpy errors(&view, &ModelInfoView::error_occurred);
    QVERIFY(view.open(dir.path()));
    QCOMPARE(errors.count(), 0);
    const int64_t V = 1000, C = 64, L = 4, H = 4, Hkv = 2, d = 16, I = 160;
    const int64_t per_layer = C * H * d + 2 * C * Hkv * d + H * d * C + 3 * C * I + 2 * C;
    const int64_t params = V * C + L * per_layer + C + V * C;  // embed, layers, final norm, lm_head
    QCOMPARE(view.fact("params"), human_count(double(params)));
    QCOMPARE(view.fact("kv_per_token"), human_bytes(double(L * 2 * Hkv * d * 2)));  // 512 B bf16
    QCOMPARE(view.fact("architecture"), QString("llama"));
    QCOMPARE(view.fact("layers"), QString("4"));
    QCOMPARE(view.fact("hidden"), QString("64"));
    QCOMPARE(view.fact("heads"), QString("4"));
    QCOMPARE(view.fact("kv_heads"), QString("2"));
    QCOMPARE(view.fact("head_dim"), QString("16"));
    QCOMPARE(view.fact("vocab"), QString("1000"));
    QCOMPARE(view.fact("max_context"), QString("131072"));
    QVERIFY2(view.fact("rope").contains("llama3") && view.fact("rope").contains("32") &&
                 view.fact("rope").contains("8192"),
             qPrintable(view.fact("rope")));
    QTableWidget* table = view.layer_table();
    QCOMPARE(table->rowCount(), 4);
    for (int r = 0; r < 4; ++r) {
      QCOMPARE(table->item(r, 1)->text(), QString("Attention"));
      QCOMPARE(table->item(r, 3)->text(), human_bytes(2.0 * Hkv * d * 2) + " / token");
    }
    view.resize(900, 420);
    view.show();
    save_screenshot(&view, "model_info_view");
  }

  void bad_checkpoints_show_an_error_and_keep_running() {
    QTemporaryDir good, bad;
    write_file(good.filePath("config.json"), kTinyLlama);
    write_file(bad.filePath("config.json"), R"({"model_type": "llama", "hidden_size": "wide"})");
    MainWindow window;
    window.resize(1280, 820);
    window.show();
    QVERIFY(window.open_checkpoint(good.path()));
    QCOMPARE(window.planner()->model()->rowCount(), 4);
    QVERIFY(!window.open_checkpoint(bad.path()));
    QVERIFY(!window.open_checkpoint(good.filePath("no-such-folder")));
    QCOMPARE(window.log()->error_count(), 2);
    QVERIFY(window.log()->toPlainText().contains("config.json"));
    const auto boxes = window.findChildren<QMessageBox*>();
    QCOMPARE(boxes.size(), 2);
    QVERIFY(boxes.first()->text().contains("config.json"));
    // The good model is still the one shown.
    QCOMPARE(window.model_view()->fact("hidden"), QString("64"));
    save_screenshot(&window, "main_window_error");
    for (QMessageBox* b : boxes) b->close();
    QVERIFY(window.recent().first().startsWith("checkpoint:"));
  }

  void projects_open_create_and_refuse() {
    QTemporaryDir root;
    MainWindow window;
    QVERIFY(!window.open_project(root.filePath("missing"), false));
    QCOMPARE(window.log()->error_count(), 1);
    QVERIFY(window.open_project(root.filePath("p1"), true));
    QVERIFY(window.project() != nullptr);
    QVERIFY(QFile::exists(root.filePath("p1/project.db")));
    QVERIFY(window.recent().first().startsWith("project:"));
    for (QMessageBox* b : window.findChildren<QMessageBox*>()) b->close();
  }
};

QTEST_MAIN(TestModelInfoView)
#include "test_model_info_view.moc"
