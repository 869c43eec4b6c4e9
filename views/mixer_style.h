// How each mixer kind looks and is typed in the GUI: one colour, one name, one key everywhere
// (layer stacks, palette, charts), so a user learns them once.
#pragma once
#include <QColor>
#include <QKeySequence>
#include <QString>

#include "core/spec/mixers.h"

namespace hylo::views {

constexpr MixerKind kAllMixerKinds[] = {MixerKind::Attention, MixerKind::MLA, MixerKind::Mamba2,
                                        MixerKind::GDN};

QString mixer_name(MixerKind kind);    // "Attention", "MLA", "Mamba2", "GDN"
QColor mixer_color(MixerKind kind);    // saturated: swatches, chart lines
QColor mixer_tint(MixerKind kind);     // light: row backgrounds behind dark text
QKeySequence mixer_key(MixerKind kind);  // A, M, 2, G
// One line with the sizes that decide a layer's cost, e.g. "latent 128 + rope 32 · 32 heads".
QString mixer_sizes(const LayerSpec& spec);

}  // namespace hylo::views
