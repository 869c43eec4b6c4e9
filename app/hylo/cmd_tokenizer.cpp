// `hylo tokenizer bytes -o tokenizer.json`: writes the byte-level tokenizer the demo models use
// (256 byte tokens + <|endoftext|>, no merges; core/text/byte_vocab.h).
#include <cstdio>

#include "app/hylo/command.h"
#include "core/io/atomic_file.h"
#include "core/text/byte_vocab.h"
#include "core/text/tokenizer.h"

namespace {

void setup_tokenizer(CLI::App& root) {
  auto* group = root.add_subcommand("tokenizer", "Make tokenizer.json files");
  group->require_subcommand(1);
  auto out = std::make_shared<std::string>();
  auto* bytes = group->add_subcommand("bytes", "Byte-level tokenizer.json: 256 byte tokens + <|endoftext|>, no merges");
  bytes->add_option("-o,--out", *out, "tokenizer.json to write")->required();
  bytes->callback([out] {
    hylo::write_text_atomically(*out, hylo::text::byte_level_tokenizer_json());
    // Read it back so a file we cannot load never leaves this command.
    auto tok = hylo::Tokenizer::from_file(*out);
    std::printf("%s: vocab %lld, eos %d\n", out->c_str(), static_cast<long long>(tok.vocab_size()), *tok.eos_id());
  });
}

}  // namespace

HYLO_REGISTER_COMMAND(setup_tokenizer);
