#include "core/text/normalizer.h"

#include <unicode/unorm2.h>
#include <unicode/ustring.h>

#include <algorithm>

namespace hylo::text {

Normalizer::Normalizer(const nlohmann::json& config, const JsonSource& src, const std::string& path) {
  if (!config.is_null()) add(config, src, path);
}

void Normalizer::add(const nlohmann::json& config, const JsonSource& src, const std::string& path) {
  std::string type = require_string(src, config, path, "type");
  if (type == "Sequence") {
    const auto& steps = require_array(src, config, path, "normalizers");
    for (size_t i = 0; i < steps.size(); ++i) add(steps[i], src, index_path(child_path(path, "normalizers"), i));
    return;
  }
  UErrorCode status = U_ZERO_ERROR;
  const UNormalizer2* form = nullptr;
  if (type == "NFC") form = unorm2_getNFCInstance(&status);
  else if (type == "NFD") form = unorm2_getNFDInstance(&status);
  else if (type == "NFKC") form = unorm2_getNFKCInstance(&status);
  else if (type == "NFKD") form = unorm2_getNFKDInstance(&status);
  else src.fail(child_path(path, "type"), "normalizer '" + type + "' is not supported (NFC, NFD, NFKC, NFKD, Sequence)");
  if (U_FAILURE(status)) src.fail(path, std::string("ICU normalizer unavailable: ") + u_errorName(status));
  forms_.push_back(form);
}

static std::u16string to_utf16(const std::string& s) {
  UErrorCode status = U_ZERO_ERROR;
  int32_t len = 0;
  u_strFromUTF8(nullptr, 0, &len, s.data(), static_cast<int32_t>(s.size()), &status);
  std::u16string out(static_cast<size_t>(len), u'\0');
  status = U_ZERO_ERROR;
  u_strFromUTF8(reinterpret_cast<UChar*>(out.data()), len, nullptr, s.data(), static_cast<int32_t>(s.size()), &status);
  return out;
}

static std::string to_utf8(const std::u16string& s) {
  UErrorCode status = U_ZERO_ERROR;
  int32_t len = 0;
  auto src = reinterpret_cast<const UChar*>(s.data());
  u_strToUTF8(nullptr, 0, &len, src, static_cast<int32_t>(s.size()), &status);
  std::string out(static_cast<size_t>(len), '\0');
  status = U_ZERO_ERROR;
  u_strToUTF8(out.data(), len, nullptr, src, static_cast<int32_t>(s.size()), &status);
  return out;
}

std::string Normalizer::normalize(const std::string& text) const {
  // ASCII is invariant under every normal form: the common case costs one scan.
  if (forms_.empty() || std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; }))
    return text;
  std::u16string s = to_utf16(text);
  for (const void* f : forms_) {
    auto form = static_cast<const UNormalizer2*>(f);
    UErrorCode status = U_ZERO_ERROR;
    auto src = reinterpret_cast<const UChar*>(s.data());
    int32_t len = unorm2_normalize(form, src, static_cast<int32_t>(s.size()), nullptr, 0, &status);
    std::u16string out(static_cast<size_t>(len), u'\0');
    status = U_ZERO_ERROR;
    unorm2_normalize(form, src, static_cast<int32_t>(s.size()), reinterpret_cast<UChar*>(out.data()), len, &status);
    if (U_FAILURE(status)) throw TokenizerError(std::string("Unicode normalization failed: ") + u_errorName(status));
    s = std::move(out);
  }
  return to_utf8(s);
}

}  // namespace hylo::text
