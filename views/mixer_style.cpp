#include "views/mixer_style.h"

namespace hylo::views {

QString mixer_name(MixerKind kind) {
  switch (kind) {
    case MixerKind::Attention: return QStringLiteral("Attention");
    case MixerKind::MLA: return QStringLiteral("MLA");
    case MixerKind::Mamba2: return QStringLiteral("Mamba2");
    case MixerKind::GDN: return QStringLiteral("GDN");
  }
  return {};
}

QColor mixer_color(MixerKind kind) {
  switch (kind) {
    case MixerKind::Attention: return QColor(0x4c, 0x72, 0xb0);  // blue: the teacher's own layers
    case MixerKind::MLA: return QColor(0xdd, 0x84, 0x52);        // orange: still a (small) KV cache
    case MixerKind::Mamba2: return QColor(0x55, 0xa8, 0x68);     // green: constant state
    case MixerKind::GDN: return QColor(0x81, 0x72, 0xb3);        // purple: constant state
  }
  return {};
}

QColor mixer_tint(MixerKind kind) {
  QColor c = mixer_color(kind);
  return QColor::fromHsvF(c.hsvHueF(), 0.18, 1.0);
}

QKeySequence mixer_key(MixerKind kind) {
  switch (kind) {
    case MixerKind::Attention: return QKeySequence(Qt::Key_A);
    case MixerKind::MLA: return QKeySequence(Qt::Key_M);
    case MixerKind::Mamba2: return QKeySequence(Qt::Key_2);
    case MixerKind::GDN: return QKeySequence(Qt::Key_G);
  }
  return {};
}

QString mixer_sizes(const LayerSpec& spec) {
  switch (spec.kind) {
    case MixerKind::Attention:
      return QStringLiteral("%1 heads · %2 KV heads · head dim %3")
          .arg(spec.attention.num_heads)
          .arg(spec.attention.num_kv_heads)
          .arg(spec.attention.head_dim);
    case MixerKind::MLA:
      return QStringLiteral("latent %1 + rope %2 · %3 heads")
          .arg(spec.mla.kv_lora_rank)
          .arg(spec.mla.qk_rope_head_dim)
          .arg(spec.mla.num_heads);
    case MixerKind::Mamba2:
      return QStringLiteral("%1 heads × %2 · d_state %3")
          .arg(spec.mamba2.num_heads)
          .arg(spec.mamba2.head_dim)
          .arg(spec.mamba2.d_state);
    case MixerKind::GDN:
      return QStringLiteral("%1 heads · k %2 · v %3")
          .arg(spec.gdn.num_heads)
          .arg(spec.gdn.head_k_dim)
          .arg(spec.gdn.head_v_dim);
  }
  return {};
}

}  // namespace hylo::views
