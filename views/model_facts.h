// The facts `hylo info` prints about a model, as display text, keyed for the views and tests.
#pragma once
#include <QMap>
#include <QString>
#include <vector>

#include "core/spec/model_config.h"

namespace hylo::views {

const std::vector<QString>& model_fact_keys();  // display order
QString model_fact_label(const QString& key);   // "KV heads"
QMap<QString, QString> model_facts(const ModelConfig& config);
// What one layer keeps per sequence at inference: "32.0 KiB / token" or "1.00 MiB state" (bf16).
QString layer_cache_text(const LayerSpec& spec);

}  // namespace hylo::views
