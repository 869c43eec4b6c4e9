#include "views/mixer_settings_panel.h"

#include <QFormLayout>
#include <QGroupBox>
#include <QSpinBox>
#include <QVBoxLayout>

#include "views/layer_plan_model.h"
#include "views/mixer_style.h"

namespace hylo::views {

static QGroupBox* kind_group(MixerKind kind, QFormLayout** form) {
  auto* box = new QGroupBox(mixer_name(kind));
  box->setStyleSheet(QStringLiteral("QGroupBox { font-weight: bold; color: %1; }")
                         .arg(mixer_color(kind).darker(125).name()));
  *form = new QFormLayout(box);
  (*form)->setLabelAlignment(Qt::AlignRight);
  (*form)->setFieldGrowthPolicy(QFormLayout::FieldsStayAtSizeHint);
  return box;
}

MixerSettingsPanel::MixerSettingsPanel(LayerPlanModel* model, QWidget* parent)
    : QWidget(parent), model_(model) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  LayerPlanModel* m = model_;
  QFormLayout* form = nullptr;

  // Each write edits a copy of the current settings of one kind (one undo step per merge key).
  auto mla = [m](auto set) {
    return [m, set](int64_t v, int key) {
      auto s = m->state().mla;
      set(s, v);
      m->set_mla(s, key);
    };
  };
  layout->addWidget(kind_group(MixerKind::MLA, &form));
  add_field(form, "mla.kv_lora_rank", tr("KV latent rank"), 0, 4096, 8,
            tr("kv_lora_rank: cached latent per token (DeepSeek-V2 MLA)"),
            [m] { return m->state().mla.kv_lora_rank; },
            mla([](MlaSettings& s, int64_t v) { s.kv_lora_rank = v; }));
  add_field(form, "mla.qk_rope_head_dim", tr("RoPE key dim"), 0, 512, 8,
            tr("qk_rope_head_dim: decoupled RoPE key, cached beside the latent"),
            [m] { return m->state().mla.qk_rope_head_dim; },
            mla([](MlaSettings& s, int64_t v) { s.qk_rope_head_dim = v; }));
  add_field(form, "mla.qk_nope_head_dim", tr("NoPE key dim"), 0, 512, 8,
            tr("qk_nope_head_dim: per-head key dims without RoPE"),
            [m] { return m->state().mla.qk_nope_head_dim; },
            mla([](MlaSettings& s, int64_t v) { s.qk_nope_head_dim = v; }));
  add_field(form, "mla.v_head_dim", tr("Value head dim"), 0, 1024, 8, tr("v_head_dim"),
            [m] { return m->state().mla.v_head_dim; },
            mla([](MlaSettings& s, int64_t v) { s.v_head_dim = v; }));
  add_field(form, "mla.q_lora_rank", tr("Query rank"), 0, 8192, 8,
            tr("q_lora_rank: 0 keeps a full-rank query projection"),
            [m] { return m->state().mla.q_lora_rank; },
            mla([](MlaSettings& s, int64_t v) { s.q_lora_rank = v; }));

  auto m2 = [m](auto set) {
    return [m, set](int64_t v, int key) {
      auto s = m->state().mamba2;
      set(s, v);
      m->set_mamba2(s, key);
    };
  };
  layout->addWidget(kind_group(MixerKind::Mamba2, &form));
  add_field(form, "mamba2.d_state", tr("State size"), 0, 1024, 16, tr("d_state per head (SSD)"),
            [m] { return m->state().mamba2.d_state; },
            m2([](Mamba2Settings& s, int64_t v) { s.d_state = v; }));
  add_field(form, "mamba2.head_dim", tr("Head dim"), 8, 1024, 8, tr("head_dim (P in SSD)"),
            [m] { return m->state().mamba2.head_dim; },
            m2([](Mamba2Settings& s, int64_t v) { s.head_dim = v; }));
  add_field(form, "mamba2.conv_kernel", tr("Conv kernel"), 1, 16, 1, tr("short causal conv width"),
            [m] { return m->state().mamba2.conv_kernel; },
            m2([](Mamba2Settings& s, int64_t v) { s.conv_kernel = v; }));
  add_field(form, "mamba2.chunk_size", tr("Chunk"), 16, 4096, 16, tr("chunk length of the SSD scan"),
            [m] { return m->state().mamba2.chunk_size; },
            m2([](Mamba2Settings& s, int64_t v) { s.chunk_size = v; }));

  auto gdn = [m](auto set) {
    return [m, set](int64_t v, int key) {
      auto s = m->state().gdn;
      set(s, v);
      m->set_gdn(s, key);
    };
  };
  layout->addWidget(kind_group(MixerKind::GDN, &form));
  add_field(form, "gdn.num_heads", tr("Value heads"), 1, 256, 1, tr("num_heads (value heads)"),
            [m] { return m->state().gdn.num_heads; },
            gdn([](GdnSettings& s, int64_t v) { s.num_heads = v; }));
  add_field(form, "gdn.num_k_heads", tr("Key heads"), 0, 256, 1,
            tr("num_k_heads: must divide the value heads"),
            [m] { return m->state().gdn.num_k_heads; },
            gdn([](GdnSettings& s, int64_t v) { s.num_k_heads = v; }));
  add_field(form, "gdn.head_k_dim", tr("Key head dim"), 8, 1024, 8, tr("head_k_dim"),
            [m] { return m->state().gdn.head_k_dim; },
            gdn([](GdnSettings& s, int64_t v) { s.head_k_dim = v; }));
  add_field(form, "gdn.head_v_dim", tr("Value head dim"), 8, 2048, 8, tr("head_v_dim"),
            [m] { return m->state().gdn.head_v_dim; },
            gdn([](GdnSettings& s, int64_t v) { s.head_v_dim = v; }));
  layout->addStretch(1);

  connect(model_, &LayerPlanModel::plan_changed, this, &MixerSettingsPanel::refresh);
  connect(model_, &QAbstractItemModel::modelReset, this, &MixerSettingsPanel::refresh);
  refresh();
}

void MixerSettingsPanel::add_field(QFormLayout* form, const QString& name, const QString& label,
                                   int lo, int hi, int step, const QString& tip,
                                   std::function<int64_t()> read,
                                   std::function<void(int64_t, int)> write) {
  auto* box = new QSpinBox;
  box->setObjectName(name);
  box->setRange(lo, hi);
  box->setSingleStep(step);
  box->setToolTip(tip);
  box->setMinimumWidth(90);
  // 0 means "derive from the teacher" in a plan (core/spec/plan.h); q_lora 0 is a full-rank query.
  if (lo == 0) box->setSpecialValueText(name == "mla.q_lora_rank" ? tr("full rank") : tr("auto"));
  box->setKeyboardTracking(false);  // typing "256" is one edit, not "2", "25", "256"
  form->addRow(label, box);
  const int merge_key = static_cast<int>(fields_.size()) + 1;  // one per spin box
  connect(box, qOverload<int>(&QSpinBox::valueChanged), this,
          [write, merge_key](int v) { write(v, merge_key); });
  fields_.push_back({name, box, std::move(read)});
}

QSpinBox* MixerSettingsPanel::spin(const QString& field) const {
  for (const Field& f : fields_)
    if (f.name == field) return f.box;
  return nullptr;
}

void MixerSettingsPanel::refresh() {
  for (const Field& f : fields_) {
    const QSignalBlocker block(f.box);
    f.box->setValue(static_cast<int>(f.read()));
  }
}

}  // namespace hylo::views
