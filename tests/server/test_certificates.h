// Certificates for TLS tests, made with the openssl command in a temporary
// directory: two CAs ("ca", "other-ca"), a server certificate for
// 127.0.0.1 and localhost and a client certificate signed by "ca", and a
// client certificate signed by "other-ca" ("stranger"). Each NAME has
// NAME.pem and NAME.key. EC P-256 keys, valid for two days.
//
//   static TestCertificates* certificates = new TestCertificates;  // per suite
//   ASSERT_TRUE(certificates->ok());
//   config.tls.certificate = certificates->Path("server.pem");
#ifndef CAIRN_TESTS_SERVER_TEST_CERTIFICATES_H
#define CAIRN_TESTS_SERVER_TEST_CERTIFICATES_H

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "test_files.h"

namespace cairn {

class TestCertificates {
 public:
  TestCertificates() {
    ok_ = MakeCa("ca") && MakeCa("other-ca") &&
          MakeLeaf("server", "ca",
                   "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n", 1) &&
          MakeLeaf("client", "ca", "extendedKeyUsage=clientAuth\n", 2) &&
          MakeLeaf("stranger", "other-ca", "extendedKeyUsage=clientAuth\n", 3);
  }

  // Whether openssl made all of them.
  bool ok() const { return ok_; }
  std::string Path(const std::string& name) const { return dir_.path() + "/" + name; }
  // A file of its own in the same directory (e.g. a broken key).
  std::string Write(const std::string& name, const std::string& content) {
    return dir_.Write(name, content);
  }

 private:
  static constexpr char kKey[] = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";

  // Runs `command` with sh; false (and a test failure) when it fails.
  static bool Run(const std::string& command) {
    int status = std::system((command + " >/dev/null 2>&1").c_str());
    if (status != 0) ADD_FAILURE() << "failed (" << status << "): " << command;
    return status == 0;
  }

  bool MakeCa(const std::string& name) {
    return Run("openssl req -x509" + std::string(kKey) + " -keyout " + Path(name + ".key") +
               " -out " + Path(name + ".pem") + " -days 2 -subj '/CN=Cairn test " + name +
               "' -addext basicConstraints=critical,CA:TRUE"
               " -addext keyUsage=critical,keyCertSign,cRLSign");
  }

  bool MakeLeaf(const std::string& name, const std::string& ca, const std::string& extensions,
                int serial) {
    dir_.Write(name + ".ext", extensions);
    return Run("openssl req" + std::string(kKey) + " -keyout " + Path(name + ".key") + " -out " +
               Path(name + ".csr") + " -subj '/CN=" + name + "'") &&
           Run("openssl x509 -req -in " + Path(name + ".csr") + " -CA " + Path(ca + ".pem") +
               " -CAkey " + Path(ca + ".key") + " -set_serial " + std::to_string(serial) +
               " -days 2 -out " + Path(name + ".pem") + " -extfile " + Path(name + ".ext"));
  }

  TempDir dir_;
  bool ok_ = false;
};

}  // namespace cairn

#endif  // CAIRN_TESTS_SERVER_TEST_CERTIFICATES_H
