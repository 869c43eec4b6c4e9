#include "core/train/corpus.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/spec/error.h"
#include "core/spec/sha256.h"
#include "core/text/tokenizer.h"

namespace fs = std::filesystem;

namespace hylo {
namespace {

bool has_text_extension(const fs::path& p) { return p.extension() == ".txt" || p.extension() == ".jsonl"; }

}  // namespace

std::vector<std::string> list_text_inputs(const std::vector<std::string>& inputs) {
  std::vector<std::string> files;
  for (const auto& input : inputs) {
    std::error_code ec;
    if (fs::is_directory(input, ec)) {
      std::vector<std::string> found;
      for (auto it = fs::recursive_directory_iterator(input, ec); !ec && it != fs::recursive_directory_iterator();
           it.increment(ec))
        if (it->is_regular_file() && has_text_extension(it->path())) found.push_back(it->path().string());
      if (ec) throw IoError("cannot list folder: " + ec.message(), input);
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::is_regular_file(input, ec)) {
      if (!has_text_extension(input)) throw IoError("expected a .txt or .jsonl file, or a folder", input);
      files.push_back(input);
    } else {
      throw IoError("no such file or folder", input);
    }
  }
  if (files.empty()) throw IoError("no .txt or .jsonl files found in the inputs");
  return files;
}

void for_each_document(const std::string& file,
                       const std::function<void(const std::string&, const std::string&)>& sink) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw IoError("cannot open", file);
  if (fs::path(file).extension() != ".jsonl") {
    std::stringstream ss;
    ss << in.rdbuf();
    sink(ss.str(), file);
    return;
  }
  std::string line;
  for (int64_t number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;  // blank lines separate nothing
    std::string where = file + ":" + std::to_string(number);
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      throw IoError(std::string("not valid JSON: ") + e.what(), where);
    }
    if (!j.is_object() || !j.contains("text")) throw IoError("missing", where, "text");
    if (!j["text"].is_string()) throw IoError("expected a string", where, "text");
    sink(j["text"].get<std::string>(), where);
  }
}

Manifest tokenize_corpus(const std::vector<std::string>& inputs, const Tokenizer& tokenizer,
                         const std::string& out_dir, const TokenizeOptions& options,
                         const std::function<void(const TokenizeProgress&)>& progress) {
  std::vector<std::string> files = list_text_inputs(inputs);
  TokenizeProgress p;
  for (const auto& f : files) p.bytes_total += static_cast<int64_t>(fs::file_size(f));
  ShardWriter writer(out_dir, options.shard_tokens, sha256_file(tokenizer.path()), tokenizer.vocab_size(),
                     tokenizer.eos_id(), options.eos_between_docs);
  int64_t reported_at = 0, files_done_bytes = 0;
  for (const auto& f : files) {
    for_each_document(f, [&](const std::string& text, const std::string& where) {
      std::vector<int32_t> ids;
      try {
        ids = tokenizer.encode(text, false);
      } catch (const TokenizerError& e) {
        throw TokenizerError(e.reason(), where, e.field());
      }
      writer.add_document(ids);
      p.bytes_read += static_cast<int64_t>(text.size());
      if (progress && p.bytes_read - reported_at >= (1 << 20)) {
        p.documents = writer.documents_written();
        p.tokens = writer.tokens_written();
        progress(p);
        reported_at = p.bytes_read;
      }
    });
    files_done_bytes += static_cast<int64_t>(fs::file_size(f));
    p.bytes_read = files_done_bytes;  // text bytes undercount JSON files: settle on file sizes
    if (progress) {
      p.documents = writer.documents_written();
      p.tokens = writer.tokens_written();
      progress(p);
    }
  }
  return writer.finish();
}

}  // namespace hylo
