// Test artefact: a PNG of a widget under $HYLO_BINARY_DIR/screenshots/, to look at by eye.
#pragma once
#include <QDir>
#include <QWidget>
#include <QtTest>

inline void save_screenshot(QWidget* w, const QString& name) {
  const QString dir = qEnvironmentVariable("HYLO_BINARY_DIR", QDir::tempPath()) + "/screenshots";
  QDir().mkpath(dir);
  QCoreApplication::processEvents();
  QVERIFY(w->grab().save(dir + "/" + name + ".png"));
}
