// A byte-level tokenizer.json with no merges: ids 0..255 are the bytes, then one end-of-text
// token. It is a standard Hugging Face file (BPE model over the GPT-2 byte alphabet, ByteLevel
// pre-tokenizer and decoder), so any HF tokenizer reads it; the demo models use it because a
// 257-row output layer keeps CPU distillation cheap.
#pragma once
#include <string>

namespace hylo::text {

constexpr const char* kByteLevelEos = "<|endoftext|>";
constexpr int kByteLevelEosId = 256;

// The file's text. The post-processor's template appends the end-of-text token (`[$A, eos]`), which
// is how hylo::Tokenizer learns the EOS id without a tokenizer_config.json, and gives no BOS.
std::string byte_level_tokenizer_json();

}  // namespace hylo::text
