// The design card's rules, checked on the source tree: the GUI and the torch-free core never
// include LibTorch (Qt's signals/slots macros clash with it, and the GUI process must stay
// torch-free), and nothing calls std::filesystem::remove_all (LibTorch 2.x exports a broken copy
// that the dynamic linker binds our calls to; core/io/remove_tree.h is the replacement).
#include <QtTest>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

fs::path source_dir() {
  const char* dir = std::getenv("HYLO_SOURCE_DIR");
  return dir ? fs::path(dir) : fs::current_path();
}

std::vector<fs::path> sources_under(const std::string& folder) {
  std::vector<fs::path> out;
  const fs::path root = source_dir() / folder;
  if (!fs::is_directory(root)) return out;
  for (auto& e : fs::recursive_directory_iterator(root)) {
    const std::string ext = e.path().extension().string();
    if (e.is_regular_file() && (ext == ".cpp" || ext == ".h" || ext == ".cu")) out.push_back(e.path());
  }
  return out;
}

// Lines of code only: // comments are dropped, so a rule may be named in a comment.
std::vector<std::string> code_lines(const fs::path& p) {
  std::ifstream in(p);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    const size_t c = line.find("//");
    lines.push_back(c == std::string::npos ? line : line.substr(0, c));
  }
  return lines;
}

QStringList offenders(const std::vector<std::string>& folders, const std::regex& pattern) {
  QStringList found;
  for (const auto& folder : folders)
    for (const auto& file : sources_under(folder)) {
      const auto lines = code_lines(file);
      for (size_t i = 0; i < lines.size(); ++i)
        if (std::regex_search(lines[i], pattern))
          found << QString::fromStdString(fs::relative(file, source_dir()).string() + ":" + std::to_string(i + 1));
    }
  return found;
}

}  // namespace

class TestSourceRules : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void sourcesAreFound() {
    QVERIFY2(sources_under("core/spec").size() > 10, source_dir().string().c_str());
    QVERIFY(sources_under("views").size() > 10);
  }

  void torchFreeLayersIncludeNoTorch() {
    const std::regex torch_include(
        "#\\s*include\\s*[<\"](torch/|ATen/|c10/|core/model/|core/train/|core/infer/|core/eval/|core/io/|core/upcycle/)");
    const QStringList found = offenders({"views", "projects", "core/spec", "core/text", "app/workbench", "app/figures"}, torch_include);
    QVERIFY2(found.isEmpty(), qPrintable(found.join(", ")));
  }

  void nothingCallsFilesystemRemoveAll() {
    const QStringList found = offenders({"core", "app", "projects", "views", "kernels"}, std::regex("\\bremove_all\\s*\\("));
    QVERIFY2(found.isEmpty(), qPrintable(found.join(", ")));
  }
};

QTEST_GUILESS_MAIN(TestSourceRules)
#include "test_source_rules.moc"
