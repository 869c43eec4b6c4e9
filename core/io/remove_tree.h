// Deletes a folder and everything under it (like `rm -rf`), without std::filesystem::remove_all:
// LibTorch 2.x's libtorch.so exports its own copy of remove_all, the dynamic linker binds our
// calls to it, and that copy jumps to a null pointer on a non-empty folder (the crash of
// `hylo train` at its first checkpoint rotation on LibTorch 2.11).
#pragma once
#include <string>

namespace hylo {

// A missing path is not an error; anything that cannot be removed is an IoError naming it.
void remove_tree(const std::string& path);

}  // namespace hylo
