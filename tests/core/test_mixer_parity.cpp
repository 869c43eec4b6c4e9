// Our mixers against transformers' own modules (tests/fixtures/mixers, made on the GPU machine by
// scripts/fixtures/make_mixer_fixtures.py: random weights, fp64 input x, the module's output y).
// Each fixture's weights are loaded under our names, then the full forward and a prefill followed
// by token-by-token decode must reproduce y.
//
// Weight names, fixture (HF) -> ours:
//   DeepseekV3Attention -> MlaMixer: identical (q_proj | q_a_proj, q_a_layernorm, q_b_proj,
//     kv_a_proj_with_mqa, kv_a_layernorm, kv_b_proj, o_proj); latent_norm on.
//   Mamba2Mixer -> Mamba2Mixer: identical (in_proj, conv1d.weight/bias, dt_bias, A_log, D,
//     norm.weight, out_proj); d_xb 0 (no repetition), eps = layer_norm_epsilon.
//   Qwen3NextGatedDeltaNet -> GatedDeltaNetMixer: in_proj_qkvz / in_proj_ba are split per key head
//     by gdn_weights_from_qwen3_next (core/model/gated_deltanet.h); the rest identical.
// Tolerance: max error relative to max |y|. transformers computes parts of each module in fp32 even
// for fp64 inputs (RoPE tables, Mamba2's A and gated norm, the whole gated delta rule), so agreement
// is at fp32 level: 5e-6 (measured: MLA 5e-8, Mamba2 1e-7, Gated DeltaNet 1e-6).
#include <QtTest>

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/io/safetensors.h"
#include "core/model/gated_deltanet.h"
#include "core/model/mamba2.h"
#include "core/model/mla.h"
#include "core/spec/error.h"
#include "tests/core/mixer_test_util.h"

using namespace hylo;

namespace {

constexpr double kTolerance = 5e-6;

struct Fixture {
  std::map<std::string, at::Tensor> weights;  // HF names without the "w." prefix
  at::Tensor x, y;                            // (B, T, C) fp64
  nlohmann::json config;
};

Fixture load_fixture(const std::string& name) {
  const std::string path =
      qEnvironmentVariable("HYLO_SOURCE_DIR").toStdString() + "/tests/fixtures/mixers/" + name + ".safetensors";
  SafetensorsReader reader(path);
  Fixture f;
  for (const auto& e : reader.entries())
    if (e.name.rfind("w.", 0) == 0) f.weights[e.name.substr(2)] = reader.load(e.name);
  f.x = reader.load("x");
  f.y = reader.load("y");
  f.config = nlohmann::json::parse(reader.metadata().at("config"));
  return f;
}

// Copies every weight into the parameter of the same name; both sets of names must be equal.
void load_weights(torch::nn::Module& mixer, const std::map<std::string, at::Tensor>& weights) {
  auto params = mixer.named_parameters();
  QCOMPARE(params.size(), weights.size());
  at::NoGradGuard no_grad;
  for (const auto& [name, w] : weights) {
    QVERIFY2(params.contains(name), name.c_str());
    QVERIFY2(params[name].sizes() == w.sizes(), name.c_str());
    params[name].copy_(w);
  }
}

// Full forward, and prefill of `prefill` tokens then one token at a time, both against f.y.
void check_outputs(Mixer& mixer, const Fixture& f, int64_t prefill) {
  at::NoGradGuard no_grad;
  const double full = test::rel_err(mixer.forward(f.x, 0, nullptr), f.y);
  QVERIFY2(full < kTolerance, qPrintable("full forward " + QString::number(full)));
  auto cache = mixer.make_cache(f.x.size(0), at::kDouble, at::kCPU);
  std::vector<at::Tensor> outs{mixer.forward(f.x.narrow(1, 0, prefill), 0, cache.get())};
  for (int64_t t = prefill; t < f.x.size(1); ++t) outs.push_back(mixer.forward(f.x.narrow(1, t, 1), t, cache.get()));
  const double decoded = test::rel_err(at::cat(outs, 1), f.y);
  QVERIFY2(decoded < kTolerance, qPrintable("prefill + decode " + QString::number(decoded)));
  qInfo("relative error: full forward %.2e, prefill + decode %.2e", full, decoded);
}

}  // namespace

class TestMixerParity : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void deepseekV3Mla_data() {
    QTest::addColumn<QString>("fixture");
    QTest::addColumn<bool>("absorbed");
    QTest::newRow("q_lora, latent norms, absorbed decode") << "deepseek_v3_mla" << true;
    QTest::newRow("q_lora, latent norms, expanded decode") << "deepseek_v3_mla" << false;
    QTest::newRow("yarn mscale_all_dim, q_proj") << "deepseek_v3_mla_yarn" << true;
  }
  void deepseekV3Mla() {
    QFETCH(QString, fixture);
    QFETCH(bool, absorbed);
    const auto f = load_fixture(fixture.toStdString());
    const auto& c = f.config;
    ModelConfig model;
    model.hidden_size = c["hidden_size"];
    model.rms_norm_eps = c["rms_norm_eps"];
    model.rope_theta = c["rope_theta"];
    model.max_position_embeddings = c["max_position_embeddings"];
    if (c.contains("rope_scaling")) {
      const auto& r = c["rope_scaling"];
      model.rope_scaling.type = r["rope_type"];
      model.rope_scaling.factor = r["factor"];
      model.rope_scaling.original_max_position_embeddings = r["original_max_position_embeddings"];
      model.rope_scaling.beta_fast = r["beta_fast"];
      model.rope_scaling.beta_slow = r["beta_slow"];
      model.rope_scaling.mscale = r["mscale"].get<double>();
      model.rope_scaling.mscale_all_dim = r["mscale_all_dim"].get<double>();
    }
    MlaSettings s;
    s.num_heads = c["num_attention_heads"];
    s.num_kv_heads = c["num_key_value_heads"];
    s.q_lora_rank = c["q_lora_rank"].is_null() ? 0 : c["q_lora_rank"].get<int64_t>();
    s.kv_lora_rank = c["kv_lora_rank"];
    s.qk_rope_head_dim = c["qk_rope_head_dim"];
    s.qk_nope_head_dim = c["qk_nope_head_dim"];
    s.v_head_dim = c["v_head_dim"];
    s.latent_norm = true;
    MlaMixer mixer(s, model);
    mixer.to(at::kDouble);
    mixer.decode_path = absorbed ? MlaDecode::Absorbed : MlaDecode::Expanded;
    QVERIFY(std::abs(mixer.softmax_scale() - c["softmax_scale"].get<double>()) < 1e-12);
    load_weights(mixer, f.weights);
    check_outputs(mixer, f, 13);
  }

  void mamba2_data() {
    QTest::addColumn<QString>("fixture");
    QTest::newRow("n_groups 1") << "mamba2_g1";
    QTest::newRow("n_groups 2") << "mamba2_g2";
  }
  void mamba2() {
    QFETCH(QString, fixture);
    const auto f = load_fixture(fixture.toStdString());
    const auto& c = f.config;
    ModelConfig model;
    model.hidden_size = c["hidden_size"];
    model.rms_norm_eps = c["layer_norm_epsilon"];
    Mamba2Settings s;
    s.num_heads = c["num_heads"];
    s.head_dim = c["head_dim"];
    s.d_inner = c["expand"].get<int64_t>() * model.hidden_size;
    s.d_state = c["state_size"];
    s.n_groups = c["n_groups"];
    s.conv_kernel = c["conv_kernel"];
    s.chunk_size = c["chunk_size"];
    Mamba2Mixer mixer(s, model);
    mixer.to(at::kDouble);
    load_weights(mixer, f.weights);
    check_outputs(mixer, f, 21);  // T = 37 with chunk 16: the prefill ends inside a chunk
  }

  void qwen3NextGatedDeltaNet() {
    const auto f = load_fixture("qwen3_next_gdn");
    const auto& c = f.config;
    ModelConfig model;
    model.hidden_size = c["hidden_size"];
    model.rms_norm_eps = c["rms_norm_eps"];
    GdnSettings s;
    s.num_heads = c["linear_num_value_heads"];
    s.num_k_heads = c["linear_num_key_heads"];
    s.head_k_dim = c["linear_key_head_dim"];
    s.head_v_dim = c["linear_value_head_dim"];
    s.conv_kernel = c["linear_conv_kernel_dim"];
    s.chunk_size = 64;  // Qwen3-Next's chunk; T = 100 covers a partial second chunk
    GatedDeltaNetMixer mixer(s, model);
    mixer.to(at::kDouble);
    load_weights(mixer, gdn_weights_from_qwen3_next(s, model.hidden_size, f.weights));
    check_outputs(mixer, f, 70);
  }

  // The split itself, on rows labelled by their index: key head i's block of in_proj_qkvz holds
  // q_i, k_i, then v and z of value heads 2i and 2i+1 (4 value heads over 2 key heads).
  void qwen3NextSplitLayout() {
    GdnSettings s;
    s.num_heads = 4;
    s.num_k_heads = 2;
    s.head_k_dim = 3;
    s.head_v_dim = 2;
    const int64_t C = 5, block = 2 * 3 + 2 * 2 * 2;  // per key head: q 3, k 3, v 4, z 4
    std::map<std::string, at::Tensor> hf{
        {"in_proj_qkvz.weight", at::arange(2 * block, at::kDouble).unsqueeze(1).expand({2 * block, C}).clone()},
        {"in_proj_ba.weight", at::arange(8, at::kDouble).unsqueeze(1).expand({8, C}).clone()},
        {"conv1d.weight", at::zeros({2 * 6 + 8, 1, 4}, at::kDouble)},
        {"dt_bias", at::zeros({4}, at::kDouble)},
        {"A_log", at::zeros({4}, at::kDouble)},
        {"norm.weight", at::zeros({2}, at::kDouble)},
        {"out_proj.weight", at::zeros({C, 8}, at::kDouble)}};
    auto ours = gdn_weights_from_qwen3_next(s, C, hf);
    auto row_ids = [&](const char* name) {
      auto col = ours.at(name).select(1, 0).to(at::kLong);
      return std::vector<int64_t>(col.data_ptr<int64_t>(), col.data_ptr<int64_t>() + col.numel());
    };
    QCOMPARE(row_ids("q_proj.weight"), (std::vector<int64_t>{0, 1, 2, 14, 15, 16}));
    QCOMPARE(row_ids("k_proj.weight"), (std::vector<int64_t>{3, 4, 5, 17, 18, 19}));
    QCOMPARE(row_ids("v_proj.weight"), (std::vector<int64_t>{6, 7, 8, 9, 20, 21, 22, 23}));
    QCOMPARE(row_ids("z_proj.weight"), (std::vector<int64_t>{10, 11, 12, 13, 24, 25, 26, 27}));
    QCOMPARE(row_ids("b_proj.weight"), (std::vector<int64_t>{0, 1, 4, 5}));
    QCOMPARE(row_ids("a_proj.weight"), (std::vector<int64_t>{2, 3, 6, 7}));
    const auto ba = hf["in_proj_ba.weight"];
    hf["in_proj_ba.weight"] = at::zeros({6, C}, at::kDouble);
    try {
      gdn_weights_from_qwen3_next(s, C, hf);
      QFAIL("no error");
    } catch (const ModelError& e) {
      QCOMPARE(e.field(), std::string("in_proj_ba.weight"));
    }
    hf["in_proj_ba.weight"] = ba;
    hf.erase("A_log");
    QVERIFY_THROWS_EXCEPTION(ModelError, gdn_weights_from_qwen3_next(s, C, hf));
  }
};

QTEST_GUILESS_MAIN(TestMixerParity)
#include "test_mixer_parity.moc"
