// SHA-256 against the FIPS 180-4 example digests (checked with coreutils sha256sum), including
// messages that end at the padding boundary and a streamed one.
#include <QtTest>

#include <fstream>

#include "core/spec/error.h"
#include "core/spec/sha256.h"

using namespace hylo;

class TestSha256 : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void sha256KnownVectors() {
    // FIPS 180-4 examples, and a message that spans the 56-byte padding boundary.
    QCOMPARE(sha256_hex("", 0), std::string("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    QCOMPARE(sha256_hex("abc", 3), std::string("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    std::string m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    QCOMPARE(sha256_hex(m.data(), m.size()),
             std::string("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"));
    // Streaming in odd pieces gives the one-shot hash (a million 'a's: the FIPS long vector).
    Sha256 h;
    std::string chunk(997, 'a');
    size_t left = 1'000'000;
    while (left) { size_t n = std::min(left, chunk.size()); h.update(chunk.data(), n); left -= n; }
    QCOMPARE(h.hex_digest(), std::string("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"));
  }
  void paddingBoundaries() {
    // 55, 56, 63, 64 and 65 bytes cross the one- and two-block padding cases; streaming byte by
    // byte must agree with one update.
    for (size_t n : {55u, 56u, 63u, 64u, 65u, 119u, 120u}) {
      std::string m(n, 'x');
      Sha256 h;
      for (char c : m) h.update(&c, 1);
      QCOMPARE(h.hex_digest(), sha256_hex(m.data(), m.size()));
    }
    // 64 'x' per sha256sum.
    std::string m(64, 'x');
    QCOMPARE(sha256_hex(m.data(), m.size()),
             std::string("7ce100971f64e7001e8fe5a51973ecdfe1ced42befe7ee8d5fd6219506b5393c"));
  }
  void fileHashAndMissingFile() {
    QTemporaryDir dir;
    std::string path = dir.path().toStdString() + "/f.bin";
    std::ofstream(path, std::ios::binary) << "abc";
    QCOMPARE(sha256_file(path), sha256_hex("abc", 3));
    QVERIFY_EXCEPTION_THROWN(sha256_file(path + ".nope"), IoError);
  }
};

QTEST_GUILESS_MAIN(TestSha256)
#include "test_sha256.moc"
