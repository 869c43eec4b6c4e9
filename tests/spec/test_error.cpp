// hylo::Error names the file and the field, so a user can find what to fix.
#include <QtTest>

#include "core/spec/error.h"

class TestError : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void messageNamesFileAndField() {
    hylo::ConfigError e("expected an integer", "ckpt/config.json", "num_hidden_layers");
    QCOMPARE(QString::fromStdString(e.what()),
             QString("ckpt/config.json: num_hidden_layers: expected an integer"));
    QCOMPARE(QString::fromStdString(e.file()), QString("ckpt/config.json"));
    QCOMPARE(QString::fromStdString(e.field()), QString("num_hidden_layers"));
    QCOMPARE(QString::fromStdString(e.reason()), QString("expected an integer"));
  }
  void messageWithoutContext() {
    hylo::IoError e("disk full");
    QCOMPARE(QString::fromStdString(e.what()), QString("disk full"));
  }
  void familiesAreErrors() {
    try {
      throw hylo::TokenizerError("bad merges", "tokenizer.json", "model.merges");
    } catch (const hylo::Error& e) {
      QVERIFY(std::string(e.what()).find("model.merges") != std::string::npos);
      return;
    }
    QFAIL("TokenizerError is not a hylo::Error");
  }
};

QTEST_GUILESS_MAIN(TestError)
#include "test_error.moc"
