// `hylo data tokenize <inputs...> --tokenizer <ckpt|tokenizer.json> -o <dir>`: text to token shards.
// `hylo data inspect <dir>`: manifest summary and a full checksum check of every shard.
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>

#include "app/hylo/command.h"
#include "core/spec/count.h"
#include "core/spec/error.h"
#include "core/train/corpus.h"
#include "core/train/data.h"
#include "core/text/tokenizer.h"

namespace {

struct TokenizeArgs {
  std::vector<std::string> inputs;
  std::string tokenizer, out, shard_tokens = "64M";
  bool eos_between_docs = false;
};

void run_tokenize(const TokenizeArgs& a) {
  hylo::TokenizeOptions options;
  try {
    options.shard_tokens = hylo::parse_count(a.shard_tokens, hylo::CountBase::Decimal);
  } catch (const std::invalid_argument& e) {
    throw hylo::IoError(e.what(), "", "--shard-tokens");
  }
  options.eos_between_docs = a.eos_between_docs;
  auto tok = hylo::Tokenizer::from_file(a.tokenizer);
  auto start = std::chrono::steady_clock::now();
  auto seconds = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  auto progress = [&](const hylo::TokenizeProgress& p) {
    double s = seconds();
    std::fprintf(stderr, "\rtokenize: %5.1f%% %lld docs %lld tokens %.0f tokens/s   ",
                 p.bytes_total ? 100.0 * p.bytes_read / p.bytes_total : 100.0, (long long)p.documents,
                 (long long)p.tokens, s > 0 ? p.tokens / s : 0.0);
  };
  hylo::Manifest m = hylo::tokenize_corpus(a.inputs, tok, a.out, options, progress);
  std::fprintf(stderr, "\n");
  if (hylo::cli::global_options().json) {
    std::cout << m.to_json().dump() << "\n";
    return;
  }
  std::printf("%s: %lld documents, %lld tokens in %zu shards (%.1f s)\n", a.out.c_str(),
              (long long)m.total_documents(), (long long)m.total_tokens(), m.shards.size(), seconds());
}

void run_inspect(const std::string& dir) {
  // Opening with verification maps every shard, checks sizes and hashes every byte.
  hylo::ShardSet set = hylo::ShardSet::open(dir, true);
  const hylo::Manifest& m = set.manifest();
  if (hylo::cli::global_options().json) {
    nlohmann::json j = m.to_json();
    j["checksums_ok"] = true;
    std::cout << j.dump() << "\n";
    return;
  }
  std::printf("data:       %s\ntokenizer:  sha256 %s, vocab %lld, eos %s%s\n", set.dir().c_str(),
              m.tokenizer_sha256.c_str(), (long long)m.vocab_size, m.eos_id ? std::to_string(*m.eos_id).c_str() : "none",
              m.eos_between_docs ? " (between documents)" : "");
  std::printf("total:      %lld documents, %lld tokens, %zu shards\n", (long long)m.total_documents(),
              (long long)m.total_tokens(), m.shards.size());
  for (const auto& s : m.shards)
    std::printf("  %s  %12lld tokens %9lld docs  sha256 %.16s...\n", s.file.c_str(), (long long)s.tokens,
                (long long)s.documents, s.sha256.c_str());
  std::printf("checksums:  ok\n");
}

void setup_data(CLI::App& root) {
  auto* data = hylo::cli::data_group(root);

  auto args = std::make_shared<TokenizeArgs>();
  auto* tok = data->add_subcommand("tokenize", "Tokenize .txt / .jsonl files and folders into uint32 shards");
  tok->add_option("inputs", args->inputs, ".txt files, .jsonl files (\"text\" field) or folders")->required();
  tok->add_option("--tokenizer", args->tokenizer, "Checkpoint folder or tokenizer.json")->required();
  tok->add_option("-o,--out", args->out, "Output folder (must not hold a manifest yet)")->required();
  tok->add_option("--shard-tokens", args->shard_tokens, "Tokens per shard, e.g. 64M (decimal)")->capture_default_str();
  tok->add_flag("--eos-between-docs", args->eos_between_docs, "End every document with the EOS token");
  tok->callback([args] { run_tokenize(*args); });

  auto dir = std::make_shared<std::string>();
  auto* inspect = data->add_subcommand("inspect", "Summarise a data folder and verify every shard's sha256");
  inspect->add_option("dir", *dir, "Data folder or manifest.json")->required();
  inspect->callback([dir] { run_inspect(*dir); });
}

}  // namespace

HYLO_REGISTER_COMMAND(setup_data);
