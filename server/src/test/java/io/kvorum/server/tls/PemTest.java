package io.kvorum.server.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.RSAPrivateCrtKey;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PemTest {
  private static final BigInteger REVOKED = new BigInteger("4A3CF9F9DCC21A01B4A0EFAEF7546AAEE8FBD194", 16);

  @TempDir Path dir;

  @Test
  void certificates_fixture_readsSubjectAndSerial() throws Exception {
    List<X509Certificate> certs = Pem.certificates(Fixtures.path("server.crt"));
    assertThat(certs).hasSize(1);
    assertThat(CertificateCheck.commonName(certs.get(0))).isEqualTo("example.com");
    assertThat(Pem.hex(Pem.certificates(Fixtures.path("server-revoked.crt")).get(0).getSerialNumber()))
        .isEqualTo("4A3CF9F9DCC21A01B4A0EFAEF7546AAEE8FBD194");
  }

  @Test
  void certificates_bundleWithTextAround_readsEveryBlock() throws Exception {
    Path bundle = dir.resolve("bundle.pem");
    Files.writeString(bundle, "leading text\n" + Files.readString(Fixtures.path("server.crt")) + "between\n"
        + Files.readString(Fixtures.path("ca.crt")));
    List<X509Certificate> certs = Pem.certificates(bundle);
    assertThat(certs).extracting(CertificateCheck::commonName).containsExactly("example.com", "ca");
  }

  @Test
  void certificates_noPemBlock_fails() throws Exception {
    Path f = dir.resolve("empty.pem");
    Files.writeString(f, "nothing here\n");
    assertThatThrownBy(() -> Pem.certificates(f)).isInstanceOf(TlsException.class)
        .hasMessageContaining("failed to find any PEM data");
  }

  @Test
  void certificates_missingFile_namesIt() {
    Path f = dir.resolve("absent.crt");
    assertThatThrownBy(() -> Pem.certificates(f)).isInstanceOf(TlsException.class)
        .hasMessageContaining(f.toString()).hasMessageContaining("no such file");
  }

  @Test
  void privateKey_pkcs1Rsa_reads() throws Exception {
    PrivateKey k = Pem.privateKey(Fixtures.path("server.key.insecure"));
    assertThat(k).isInstanceOf(RSAPrivateCrtKey.class);
    assertThat(((RSAPrivateCrtKey) k).getModulus())
        .isEqualTo(((java.security.interfaces.RSAPublicKey) Pem.certificates(Fixtures.path("server.crt")).get(0)
            .getPublicKey()).getModulus());
  }

  @Test
  void privateKey_pkcs8_sameKeyAsPkcs1() throws Exception {
    PrivateKey pkcs8 = Pem.privateKey(Fixtures.path("server.pkcs8.key.insecure"));
    PrivateKey pkcs1 = Pem.privateKey(Fixtures.path("server.key.insecure"));
    assertThat(pkcs8.getEncoded()).isEqualTo(pkcs1.getEncoded());
  }

  @Test
  void privateKey_sec1Ec_reads() throws Exception {
    PrivateKey k = Pem.privateKey(Fixtures.path("server-ecdsa.key.insecure"));
    assertThat(k).isInstanceOf(ECPrivateKey.class);
  }

  @Test
  void privateKey_certificateFile_fails() {
    assertThatThrownBy(() -> Pem.privateKey(Fixtures.path("server.crt"))).isInstanceOf(TlsException.class)
        .hasMessageContaining("failed to find any PEM data in key input");
  }

  @Test
  void privateKey_encrypted_refused() throws Exception {
    Path f = dir.resolve("enc.key");
    Files.writeString(f, "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n"
        + "DEK-Info: AES-128-CBC,0123456789ABCDEF0123456789ABCDEF\n\nAAAA\n-----END RSA PRIVATE KEY-----\n");
    assertThatThrownBy(() -> Pem.privateKey(f)).isInstanceOf(TlsException.class).hasMessageContaining("encrypted");
  }

  @Test
  void revokedSerials_expiredDerFixture_listsRevokedSerial() throws Exception {
    assertThat(Pem.revokedSerials(Fixtures.path("revoke.crl"))).containsExactly(REVOKED);
  }

  @Test
  void revokedSerials_pem_sameAsDer() throws Exception {
    byte[] der = Files.readAllBytes(Fixtures.path("revoke.crl"));
    Path pem = dir.resolve("revoke.pem");
    Files.writeString(pem, "-----BEGIN X509 CRL-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
        + "\n-----END X509 CRL-----\n");
    assertThat(Pem.revokedSerials(pem)).containsExactly(REVOKED);
  }

  @Test
  void revokedSerials_garbage_fails() throws Exception {
    Path f = dir.resolve("bad.crl");
    Files.write(f, new byte[] {1, 2, 3});
    assertThatThrownBy(() -> Pem.revokedSerials(f)).isInstanceOf(TlsException.class).hasMessageContaining(f.toString());
  }
}
