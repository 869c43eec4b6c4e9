#include "views/hylo_binary.h"

#include <QCoreApplication>
#include <QDir>

namespace hylo::views {

QString hylo_binary() {
  const QString env = qEnvironmentVariable("HYLO_BIN");
  if (!env.isEmpty()) return env;
  QDir dir(QCoreApplication::applicationDirPath());
  // Test executables live one folder below the binaries (build/tests vs build/app).
  for (const QString& rel : {QStringLiteral("hylo"), QStringLiteral("../app/hylo")})
    if (QFileInfo(dir.filePath(rel)).isExecutable()) return QDir::cleanPath(dir.filePath(rel));
  return QStringLiteral("hylo");  // from PATH
}

}  // namespace hylo::views
