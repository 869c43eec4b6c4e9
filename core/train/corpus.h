// Turns text files into a data folder (core/train/data.h): .txt files (one document each),
// .jsonl files (one document per line, its "text" field) and folders of them (recursive, in
// sorted path order so the result does not depend on the file system).
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/train/data.h"

namespace hylo {

class Tokenizer;

struct TokenizeOptions {
  int64_t shard_tokens = 64'000'000;
  bool eos_between_docs = false;
};

struct TokenizeProgress {
  int64_t documents = 0, tokens = 0;
  int64_t bytes_read = 0, bytes_total = 0;  // input text bytes
};

// The input files in reading order; folders are expanded. An unknown extension or a missing path
// is an IoError naming it.
std::vector<std::string> list_text_inputs(const std::vector<std::string>& inputs);

// Reads every document of one input file and hands it to `sink` (text, "file:line" for messages).
void for_each_document(const std::string& file,
                       const std::function<void(const std::string& text, const std::string& where)>& sink);

// Tokenizes `inputs` into `out_dir` and returns the written manifest. `progress` is called after
// every file and at least every ~1 MB of text.
Manifest tokenize_corpus(const std::vector<std::string>& inputs, const Tokenizer& tokenizer,
                         const std::string& out_dir, const TokenizeOptions& options,
                         const std::function<void(const TokenizeProgress&)>& progress = {});

}  // namespace hylo
