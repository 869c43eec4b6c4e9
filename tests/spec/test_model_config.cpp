// ModelConfig reads the config.json of real Llama / Qwen2 / Qwen3 checkpoints (copied here from
// the hub files), both rope spellings, and a hybrid's `hylo` block; it round-trips through to_json
// and names file and field for every kind of bad input.
#include <QtTest>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "core/spec/error.h"
#include "core/spec/mixers_json.h"
#include "core/spec/model_config.h"

using nlohmann::json;
using hylo::ConfigError;
using hylo::MixerKind;
using hylo::ModelConfig;

namespace {

// meta-llama/Llama-3.2-1B config.json
const char* kLlama32_1B = R"({
  "architectures": ["LlamaForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
  "bos_token_id": 128000, "eos_token_id": 128001, "head_dim": 64, "hidden_act": "silu",
  "hidden_size": 2048, "initializer_range": 0.02, "intermediate_size": 8192,
  "max_position_embeddings": 131072, "mlp_bias": false, "model_type": "llama",
  "num_attention_heads": 32, "num_hidden_layers": 16, "num_key_value_heads": 8, "pretraining_tp": 1,
  "rms_norm_eps": 1e-05,
  "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                   "original_max_position_embeddings": 8192, "rope_type": "llama3"},
  "rope_theta": 500000.0, "tie_word_embeddings": true, "torch_dtype": "bfloat16",
  "transformers_version": "4.45.0.dev0", "use_cache": true, "vocab_size": 128256})";

// Qwen/Qwen2.5-0.5B config.json (no head_dim, no attention_bias key: Qwen2 always has biases)
const char* kQwen25_05B = R"({
  "architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 151643,
  "eos_token_id": 151643, "hidden_act": "silu", "hidden_size": 896, "initializer_range": 0.02,
  "intermediate_size": 4864, "max_position_embeddings": 32768, "max_window_layers": 24,
  "model_type": "qwen2", "num_attention_heads": 14, "num_hidden_layers": 24, "num_key_value_heads": 2,
  "rms_norm_eps": 1e-06, "rope_theta": 1000000.0, "sliding_window": 32768, "tie_word_embeddings": true,
  "torch_dtype": "bfloat16", "transformers_version": "4.43.1", "use_cache": true,
  "use_sliding_window": false, "vocab_size": 151936})";

// Qwen/Qwen3-0.6B config.json (head_dim 128 != hidden 1024 / 16 heads), eos as a list
const char* kQwen3_06B = R"({
  "architectures": ["Qwen3ForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
  "bos_token_id": 151643, "eos_token_id": [151645, 151643], "head_dim": 128, "hidden_act": "silu",
  "hidden_size": 1024, "initializer_range": 0.02, "intermediate_size": 3072,
  "max_position_embeddings": 40960, "max_window_layers": 28, "model_type": "qwen3",
  "num_attention_heads": 16, "num_hidden_layers": 28, "num_key_value_heads": 8, "rms_norm_eps": 1e-06,
  "rope_scaling": null, "rope_theta": 1000000, "sliding_window": null, "tie_word_embeddings": true,
  "torch_dtype": "bfloat16", "transformers_version": "4.51.0", "use_cache": true,
  "use_sliding_window": false, "vocab_size": 151936})";

// The same Llama as transformers 5.x saves it: rope_parameters carries rope_theta, "dtype".
const char* kLlama32_1B_v5 = R"({
  "architectures": ["LlamaForCausalLM"], "attention_bias": false, "bos_token_id": 128000,
  "eos_token_id": 128001, "head_dim": 64, "hidden_act": "silu", "hidden_size": 2048,
  "intermediate_size": 8192, "max_position_embeddings": 131072, "mlp_bias": false, "model_type": "llama",
  "num_attention_heads": 32, "num_hidden_layers": 16, "num_key_value_heads": 8, "rms_norm_eps": 1e-05,
  "rope_parameters": {"rope_type": "llama3", "rope_theta": 500000.0, "factor": 32.0,
                      "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                      "original_max_position_embeddings": 8192},
  "tie_word_embeddings": true, "dtype": "bfloat16", "vocab_size": 128256})";

// A 4MLA12M2 student of Llama-3.2-1B (HyLo's MLA layers [1,5,10,14]); sizes it leaves out come
// from the teacher.
json hybrid_json() {
  json j = json::parse(kLlama32_1B);
  j["model_type"] = "hylo";
  j["architectures"] = {"HyloForCausalLM"};
  json layers = json::array();
  for (int i = 0; i < 16; ++i) {
    if (i == 1 || i == 5 || i == 10 || i == 14) {
      layers.push_back({{"mixer", "mla"}, {"q_lora_rank", 1344}, {"kv_lora_rank", 128},
                        {"qk_rope_head_dim", 32}, {"qk_nope_head_dim", 32}, {"v_head_dim", 64}});
    } else {
      layers.push_back({{"mixer", "mamba2"}, {"head_dim", 64}, {"d_xb", 512}, {"d_state", 64},
                        {"n_groups", 32}, {"dt_min", 0.002}});
    }
  }
  j["hylo"] = {{"layers", layers}, {"teacher", "meta-llama/Llama-3.2-1B"}};
  return j;
}

ModelConfig parse(const char* text) { return ModelConfig::from_json(json::parse(text), "test/config.json"); }

std::filesystem::path scratch_dir(const char* name) {
  auto dir = std::filesystem::temp_directory_path() / ("hylo_test_model_config_" + std::to_string(::getpid())) / name;
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace

class TestModelConfig : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void cleanupTestCase() {
    std::filesystem::remove_all(std::filesystem::temp_directory_path() /
                                ("hylo_test_model_config_" + std::to_string(::getpid())));
  }

  void llama32() {
    const ModelConfig c = parse(kLlama32_1B);
    QCOMPARE(c.model_type, std::string("llama"));
    QCOMPARE(c.architecture, std::string("LlamaForCausalLM"));
    QCOMPARE(c.vocab_size, int64_t(128256));
    QCOMPARE(c.hidden_size, int64_t(2048));
    QCOMPARE(c.intermediate_size, int64_t(8192));
    QCOMPARE(c.num_hidden_layers, int64_t(16));
    QCOMPARE(c.num_attention_heads, int64_t(32));
    QCOMPARE(c.num_key_value_heads, int64_t(8));
    QCOMPARE(c.head_dim, int64_t(64));
    QCOMPARE(c.max_position_embeddings, int64_t(131072));
    QCOMPARE(c.rms_norm_eps, 1e-5);
    QCOMPARE(c.rope_theta, 500000.0);
    QCOMPARE(c.rope_scaling.type, std::string("llama3"));
    QCOMPARE(c.rope_scaling.factor, 32.0);
    QCOMPARE(c.rope_scaling.original_max_position_embeddings, int64_t(8192));
    QCOMPARE(c.rope_scaling.low_freq_factor, 1.0);
    QCOMPARE(c.rope_scaling.high_freq_factor, 4.0);
    QVERIFY(c.tie_word_embeddings);
    QVERIFY(!c.attention_bias);
    QVERIFY(!c.qk_norm);
    QCOMPARE(c.torch_dtype, std::string("bfloat16"));
    QCOMPARE(c.bos_token_id, int64_t(128000));
    QCOMPARE(c.eos_token_ids, std::vector<int64_t>{128001});
    QCOMPARE(c.layers.size(), size_t(16));
    QCOMPARE(c.count_layers(MixerKind::Attention), int64_t(16));
    QCOMPARE(c.layers[3].attention.num_kv_heads, int64_t(8));
    QCOMPARE(c.layers[3].attention.head_dim, int64_t(64));
    // GUIDE: 16 layers x 2 x 8 KV heads x 64 x 2 bytes = 32 KiB per token.
    QCOMPARE(c.kv_bytes_per_token(2), int64_t(32 * 1024));
    QVERIFY(!c.is_hybrid());
  }

  void qwen25HasBiasAndDerivedHeadDim() {
    const ModelConfig c = parse(kQwen25_05B);
    QCOMPARE(c.architecture, std::string("Qwen2ForCausalLM"));
    QVERIFY(c.attention_bias);
    QVERIFY(!c.qk_norm);
    QCOMPARE(c.head_dim, int64_t(64));  // 896 / 14
    QCOMPARE(c.rope_scaling.type, std::string("default"));
    QCOMPARE(c.rope_theta, 1e6);
    QVERIFY(c.layers[0].attention.bias);
    QCOMPARE(c.kv_bytes_per_token(2), int64_t(24 * 2 * 2 * 64 * 2));
  }

  void qwen3HasQkNormAndExplicitHeadDim() {
    const ModelConfig c = parse(kQwen3_06B);
    QVERIFY(c.qk_norm);
    QVERIFY(!c.attention_bias);
    QCOMPARE(c.head_dim, int64_t(128));
    QVERIFY(c.layers[27].attention.qk_norm);
    QCOMPARE(c.eos_token_ids, (std::vector<int64_t>{151645, 151643}));
    QCOMPARE(c.kv_bytes_per_token(2), int64_t(28 * 2 * 8 * 128 * 2));
  }

  void teacherConfigsRoundTrip_data() {
    QTest::addColumn<QString>("text");
    QTest::newRow("llama") << QString(kLlama32_1B);
    QTest::newRow("qwen2") << QString(kQwen25_05B);
    QTest::newRow("qwen3") << QString(kQwen3_06B);
  }
  void teacherConfigsRoundTrip() {
    QFETCH(QString, text);
    const ModelConfig a = parse(text.toStdString().c_str());
    const json written = a.to_json();
    const ModelConfig b = ModelConfig::from_json(written, "written/config.json");
    QCOMPARE(b.to_json(), written);
    QCOMPARE(b.head_dim, a.head_dim);
    QCOMPARE(b.attention_bias, a.attention_bias);
    QCOMPARE(b.qk_norm, a.qk_norm);
    QCOMPARE(b.eos_token_ids, a.eos_token_ids);
    QCOMPARE(b.rope_scaling.type, a.rope_scaling.type);
  }

  void ropeScalingKinds_data() {
    QTest::addColumn<QString>("rope");
    QTest::addColumn<QString>("type");
    QTest::addColumn<double>("factor");
    QTest::addColumn<qlonglong>("original");
    QTest::newRow("linear") << R"({"type": "linear", "factor": 2.0})" << "linear" << 2.0 << 0LL;
    QTest::newRow("dynamic") << R"({"type": "dynamic", "factor": 4.0})" << "dynamic" << 4.0 << 0LL;
    QTest::newRow("llama3") << R"({"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
        "high_freq_factor": 4.0, "original_max_position_embeddings": 8192})" << "llama3" << 8.0 << 8192LL;
    QTest::newRow("yarn") << R"({"rope_type": "yarn", "factor": 32.0, "original_max_position_embeddings": 2048,
        "beta_fast": 16, "beta_slow": 2, "mscale": 0.707, "mscale_all_dim": 0.707, "truncate": false})"
                          << "yarn" << 32.0 << 2048LL;
    // HF's yarn falls back to max_position_embeddings for the original context.
    QTest::newRow("yarn-no-original") << R"({"type": "yarn", "factor": 4.0})" << "yarn" << 4.0 << 131072LL;
    QTest::newRow("null") << "null" << "default" << 1.0 << 0LL;
  }
  void ropeScalingKinds() {
    QFETCH(QString, rope);
    QFETCH(QString, type);
    QFETCH(double, factor);
    QFETCH(qlonglong, original);
    json j = json::parse(kLlama32_1B);
    j["rope_scaling"] = json::parse(rope.toStdString());
    const ModelConfig c = ModelConfig::from_json(j, "test/config.json");
    QCOMPARE(QString::fromStdString(c.rope_scaling.type), type);
    QCOMPARE(c.rope_scaling.factor, factor);
    QCOMPARE(c.rope_scaling.original_max_position_embeddings, int64_t(original));
    if (type == "yarn" && original == 2048) {
      QCOMPARE(c.rope_scaling.beta_fast, 16.0);
      QCOMPARE(c.rope_scaling.beta_slow, 2.0);
      QCOMPARE(*c.rope_scaling.mscale, 0.707);
      QCOMPARE(*c.rope_scaling.mscale_all_dim, 0.707);
      QVERIFY(!c.rope_scaling.attention_factor);
      QVERIFY(!c.rope_scaling.truncate);
    }
    const ModelConfig back = ModelConfig::from_json(c.to_json(), "written/config.json");
    QCOMPARE(back.to_json(), c.to_json());
    QCOMPARE(back.rope_scaling.truncate, c.rope_scaling.truncate);
    QCOMPARE(back.rope_scaling.mscale, c.rope_scaling.mscale);
  }

  void ropeParametersFormReadsTheSame() {
    const ModelConfig hub = parse(kLlama32_1B);
    const ModelConfig v5 = parse(kLlama32_1B_v5);
    QCOMPARE(v5.rope_theta, 500000.0);
    QCOMPARE(v5.torch_dtype, std::string("bfloat16"));
    QCOMPARE(v5.to_json(), hub.to_json());
    // Both forms at once are fine when they agree.
    json both = json::parse(kLlama32_1B_v5);
    both["rope_theta"] = 500000.0;
    both["rope_scaling"] = json::parse(kLlama32_1B)["rope_scaling"];
    QCOMPARE(ModelConfig::from_json(both, "both/config.json").to_json(), hub.to_json());
  }

  void unknownTopLevelKeysAreIgnored() {
    json j = json::parse(kLlama32_1B);
    j["some_future_field"] = {{"x", 1}};
    j["attention_dropout"] = 0.1;
    QCOMPARE(ModelConfig::from_json(j, "f").to_json(), parse(kLlama32_1B).to_json());
  }

  void hybridBlockRoundTrips() {
    const ModelConfig c = ModelConfig::from_json(hybrid_json(), "student/config.json");
    QVERIFY(c.is_hybrid());
    QCOMPARE(c.architecture, std::string("HyloForCausalLM"));
    QCOMPARE(c.teacher, std::string("meta-llama/Llama-3.2-1B"));
    QCOMPARE(c.count_layers(MixerKind::MLA), int64_t(4));
    QCOMPARE(c.count_layers(MixerKind::Mamba2), int64_t(12));
    QVERIFY(c.layers[1].kind == MixerKind::MLA && c.layers[14].kind == MixerKind::MLA);
    const auto& mla = c.layers[5].mla;
    QCOMPARE(mla.num_heads, int64_t(32));  // from the teacher
    QCOMPARE(mla.num_kv_heads, int64_t(8));
    QCOMPARE(mla.q_lora_rank, int64_t(1344));
    QCOMPARE(mla.kv_lora_rank + mla.qk_rope_head_dim, int64_t(160));
    QVERIFY(!mla.latent_norm);
    const auto& m2 = c.layers[0].mamba2;
    QCOMPARE(m2.d_inner, int64_t(2048));  // = hidden
    QCOMPARE(m2.num_heads, int64_t(32));  // d_inner / head_dim
    QCOMPARE(m2.d_xb, int64_t(512));
    QCOMPARE(m2.n_groups, int64_t(32));
    QCOMPARE(m2.dt_min, 0.002f);
    QCOMPARE(m2.chunk_size, int64_t(256));  // default kept
    QCOMPARE(c.kv_bytes_per_token(2), int64_t(0));  // no softmax-attention layer left

    // Through a file and back, twice: the JSON is a fixed point and floats stay short.
    const auto dir = scratch_dir("hybrid");
    std::ofstream(dir / "config.json") << c.to_json().dump(2);
    const ModelConfig loaded = ModelConfig::load(dir.string());
    QCOMPARE(loaded.to_json(), c.to_json());
    QCOMPARE(loaded.to_json()["hylo"]["layers"][0]["dt_min"].dump(), std::string("0.002"));
    QCOMPARE(loaded.layers[10].mla.v_head_dim, int64_t(64));
    QCOMPARE(loaded.layers[3].mamba2.d_state, int64_t(64));
  }

  void hybridWithAttentionAndGdnLayers() {
    json j = hybrid_json();
    j["hylo"]["layers"][0] = {{"mixer", "keep"}};
    j["hylo"]["layers"][2] = {{"mixer", "gdn"}, {"num_heads", 6}, {"num_k_heads", 6}, {"head_v_dim", 512}};
    j["qk_norm"] = false;
    const ModelConfig c = ModelConfig::from_json(j, "student/config.json");
    QVERIFY(c.layers[0].kind == MixerKind::Attention);
    QCOMPARE(c.layers[0].attention.num_heads, int64_t(32));
    QVERIFY(c.layers[2].kind == MixerKind::GDN);
    QCOMPARE(c.layers[2].gdn.head_v_dim, int64_t(512));
    QCOMPARE(c.layers[2].gdn.head_k_dim, int64_t(256));
    QCOMPARE(c.kv_bytes_per_token(2), int64_t(2 * 8 * 64 * 2));
    QCOMPARE(ModelConfig::from_json(c.to_json(), "w").to_json(), c.to_json());
    QCOMPARE(c.to_json()["hylo"]["layers"][0]["mixer"], json("attention"));
  }

  void settingsJsonRoundTrip() {
    hylo::Mamba2Settings m;
    m.num_heads = 24;
    m.d_inner = 1536;
    m.dt_max = 0.25f;
    m.gated_norm = false;
    hylo::Mamba2Settings back;
    hylo::update_from_json(back, hylo::to_json(m), "f", "m");
    QCOMPARE(hylo::to_json(back), hylo::to_json(m));
    QCOMPARE(back.dt_max, 0.25f);
    QVERIFY(!back.gated_norm);
    hylo::GdnSettings g;
    g.output_gate = false;
    g.num_k_heads = 3;
    hylo::GdnSettings gback;
    hylo::update_from_json(gback, hylo::to_json(g), "f", "g");
    QCOMPARE(gback.num_k_heads, int64_t(3));
    QVERIFY(!gback.output_gate);
    for (auto kind : {MixerKind::Attention, MixerKind::MLA, MixerKind::Mamba2, MixerKind::GDN})
      QVERIFY(hylo::mixer_kind_from_string(hylo::to_string(kind)) == kind);
  }

  // Each row: a JSON merge patch (RFC 7386; null deletes) applied to a Llama or hybrid config,
  // and the field the error must name.
  void badConfigs_data() {
    QTest::addColumn<bool>("hybrid");
    QTest::addColumn<QString>("patch");
    QTest::addColumn<QString>("field");
    QTest::newRow("missing field") << false << R"({"hidden_size": null})" << "hidden_size";
    QTest::newRow("wrong type") << false << R"({"hidden_size": "2048"})" << "hidden_size";
    QTest::newRow("float for int") << false << R"({"num_hidden_layers": 16.5})" << "num_hidden_layers";
    QTest::newRow("negative size") << false << R"({"vocab_size": -1})" << "vocab_size";
    QTest::newRow("zero size") << false << R"({"intermediate_size": 0})" << "intermediate_size";
    QTest::newRow("heads do not divide hidden") << false << R"({"head_dim": null, "num_attention_heads": 30,
        "num_key_value_heads": 6})" << "num_attention_heads";
    QTest::newRow("kv heads do not divide heads") << false << R"({"num_key_value_heads": 7})"
                                                  << "num_key_value_heads";
    QTest::newRow("odd head_dim") << false << R"({"head_dim": 63})" << "head_dim";
    QTest::newRow("unknown model_type") << false << R"({"model_type": "mistral"})" << "model_type";
    QTest::newRow("architecture mismatch") << false << R"({"architectures": ["Qwen2ForCausalLM"]})"
                                           << "architectures";
    QTest::newRow("unknown rope type") << false << R"({"rope_scaling": {"rope_type": "longrope"}})"
                                       << "rope_scaling.rope_type";
    QTest::newRow("unknown rope key") << false << R"({"rope_scaling": {"alpha": 1}})" << "rope_scaling.alpha";
    QTest::newRow("rope type spellings disagree") << false << R"({"rope_scaling": {"type": "linear"}})"
                                                  << "rope_scaling.type";
    QTest::newRow("llama3 without original") << false
        << R"({"rope_scaling": {"original_max_position_embeddings": null}})"
        << "rope_scaling.original_max_position_embeddings";
    QTest::newRow("linear without factor") << false << R"({"rope_scaling": {"rope_type": "linear", "factor": null}})"
                                           << "rope_scaling.factor";
    QTest::newRow("rope_parameters theta disagrees") << false
        << R"({"rope_parameters": {"rope_type": "default", "rope_theta": 10000.0}, "rope_scaling": null})"
        << "rope_theta";
    QTest::newRow("rope forms disagree") << false
        << R"({"rope_theta": null, "rope_parameters": {"rope_type": "default", "rope_theta": 1.0}})"
        << "rope_scaling";
    QTest::newRow("gelu") << false << R"({"hidden_act": "gelu"})" << "hidden_act";
    QTest::newRow("sliding window on") << false << R"({"use_sliding_window": true, "sliding_window": 4096})"
                                       << "sliding_window";
    QTest::newRow("sliding layer types") << false << R"({"layer_types": ["sliding_attention"]})" << "layer_types";
    QTest::newRow("mlp bias") << false << R"({"mlp_bias": true})" << "mlp_bias";
    QTest::newRow("eos wrong type") << false << R"({"eos_token_id": "</s>"})" << "eos_token_id";
    QTest::newRow("unknown dtype") << false << R"({"torch_dtype": "float8"})" << "torch_dtype";
    QTest::newRow("hylo block in a teacher") << false << R"({"hylo": {"layers": []}})" << "hylo";
    QTest::newRow("hybrid without block") << true << R"({"hylo": null})" << "hylo";
    QTest::newRow("unknown key in hylo block") << true << R"({"hylo": {"plan": 1}})" << "hylo.plan";
    QTest::newRow("layers not a list") << true << R"({"hylo": {"layers": {}}})" << "hylo.layers";
    QTest::newRow("too few layers") << true << R"({"num_hidden_layers": 17})" << "hylo.layers";
  }
  void badConfigs() {
    QFETCH(bool, hybrid);
    QFETCH(QString, patch);
    QFETCH(QString, field);
    json j = hybrid ? hybrid_json() : json::parse(kLlama32_1B);
    j.merge_patch(json::parse(patch.toStdString()));
    expectError(j, field.toStdString());
  }

  // Layer entries are patched in place (merge patches replace arrays whole).
  void badHybridLayers_data() {
    QTest::addColumn<int>("layer");
    QTest::addColumn<QString>("entry");
    QTest::addColumn<QString>("field");
    QTest::newRow("unknown key in layer") << 1 << R"({"mixer": "mla", "kv_rank": 64})" << "hylo.layers[1].kv_rank";
    QTest::newRow("key of another kind") << 0 << R"({"mixer": "mamba2", "kv_lora_rank": 64})"
                                         << "hylo.layers[0].kv_lora_rank";
    QTest::newRow("unknown mixer") << 0 << R"({"mixer": "rwkv"})" << "hylo.layers[0].mixer";
    QTest::newRow("missing mixer") << 0 << R"({"head_dim": 64})" << "hylo.layers[0].mixer";
    QTest::newRow("layer not an object") << 2 << R"("mla")" << "hylo.layers[2]";
    QTest::newRow("wrong type in layer") << 1 << R"({"mixer": "mla", "kv_lora_rank": "128"})"
                                         << "hylo.layers[1].kv_lora_rank";
    QTest::newRow("bool as int") << 1 << R"({"mixer": "mla", "latent_norm": 1})" << "hylo.layers[1].latent_norm";
    QTest::newRow("zero rank") << 1 << R"({"mixer": "mla", "kv_lora_rank": 0})" << "hylo.layers[1].kv_lora_rank";
    QTest::newRow("mla kv heads") << 1 << R"({"mixer": "mla", "num_kv_heads": 5})" << "hylo.layers[1].num_kv_heads";
    QTest::newRow("odd rope dim") << 1 << R"({"mixer": "mla", "qk_rope_head_dim": 33})"
                                  << "hylo.layers[1].qk_rope_head_dim";
    QTest::newRow("mamba2 d_inner") << 0 << R"({"mixer": "mamba2", "d_inner": 2000, "num_heads": 32})"
                                    << "hylo.layers[0].d_inner";
    QTest::newRow("mamba2 groups") << 0 << R"({"mixer": "mamba2", "n_groups": 5})" << "hylo.layers[0].n_groups";
    QTest::newRow("gdn key heads") << 3 << R"({"mixer": "gdn", "num_k_heads": 4})" << "hylo.layers[3].num_k_heads";
  }
  void badHybridLayers() {
    QFETCH(int, layer);
    QFETCH(QString, entry);
    QFETCH(QString, field);
    json j = hybrid_json();
    j["hylo"]["layers"][layer] = json::parse(entry.toStdString());
    expectError(j, field.toStdString());
  }

  void malformedJsonNamesFile() {
    const auto dir = scratch_dir("malformed");
    std::ofstream(dir / "config.json") << R"({"model_type": "llama", "hidden_size": )";
    try {
      ModelConfig::load(dir.string());
      QFAIL("malformed JSON was accepted");
    } catch (const ConfigError& e) {
      QCOMPARE(e.file(), (dir / "config.json").string());
      QVERIFY2(std::string(e.what()).find("malformed JSON") != std::string::npos, e.what());
    }
  }

  void missingFileNamesFile() {
    const auto dir = scratch_dir("empty");
    try {
      ModelConfig::load(dir.string());
      QFAIL("a folder without config.json was accepted");
    } catch (const ConfigError& e) {
      QCOMPARE(e.file(), (dir / "config.json").string());
    }
  }

  void topLevelNotAnObject() {
    QVERIFY_THROWS_EXCEPTION(ConfigError, ModelConfig::from_json(json::array(), "f"));
  }

 private:
  static void expectError(const json& j, const std::string& field) {
    try {
      ModelConfig::from_json(j, "bad/config.json");
      QFAIL(("accepted; expected an error naming " + field).c_str());
    } catch (const ConfigError& e) {
      QVERIFY2(e.file() == "bad/config.json", e.what());
      QVERIFY2(e.field() == field, (std::string(e.what()) + "  [expected field " + field + "]").c_str());
      const std::string prefix = "bad/config.json: " + field + ": ";
      QVERIFY2(std::string(e.what()).rfind(prefix, 0) == 0, e.what());
    }
  }
};

QTEST_GUILESS_MAIN(TestModelConfig)
#include "test_model_config.moc"
