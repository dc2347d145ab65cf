package io.kvorum.server.tls;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SelfSignedCertificateTest {
  private static final Instant NOW = Instant.parse("2025-03-01T12:00:00Z");
  private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);

  @TempDir Path dir;

  @Test
  void ensure_emptyDirectory_writesEcCertificateForTheListenHosts() throws Exception {
    Path d = dir.resolve("fixtures").resolve("peer");
    SelfSignedCertificate.KeyPairFiles f = SelfSignedCertificate.ensure(d,
        List.of(URI.create("https://localhost:20001"), URI.create("https://127.0.0.1:20002"), URI.create("https://[::1]:3")),
        CLOCK, new SecureRandom());

    assertThat(f.certFile()).isEqualTo(d.resolve("cert.pem"));
    assertThat(Files.readString(f.keyFile())).startsWith("-----BEGIN EC PRIVATE KEY-----");
    assertThat(Pem.privateKey(f.keyFile())).isInstanceOf(ECPrivateKey.class);
    X509Certificate c = Pem.certificates(f.certFile()).get(0);
    c.verify(c.getPublicKey());
    assertThat(c.getSubjectX500Principal().getName()).isEqualTo("O=etcd");
    assertThat(c.getNotBefore().toInstant()).isEqualTo(NOW);
    assertThat(Duration.between(c.getNotBefore().toInstant(), c.getNotAfter().toInstant())).isEqualTo(Duration.ofDays(365));
    assertThat(c.getSerialNumber().bitLength()).isLessThanOrEqualTo(128);
    assertThat(c.getBasicConstraints()).isEqualTo(-1);
    assertThat(c.getExtendedKeyUsage()).contains("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2");
    assertThat(CertificateCheck.matchesHost(c, "localhost")).isTrue();
    assertThat(CertificateCheck.matchesHost(c, "127.0.0.1")).isTrue();
    assertThat(CertificateCheck.matchesHost(c, "::1")).isTrue();
    assertThat(CertificateCheck.matchesHost(c, "example.com")).isFalse();
    if (Files.getFileStore(f.keyFile()).supportsFileAttributeView("posix")) {
      assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(f.keyFile())))
          .isEqualTo("rw-------");
    }
  }

  @Test
  void ensure_existingFiles_reusedUnchanged() throws Exception {
    List<URI> urls = List.of(URI.create("https://localhost:2380"));
    SelfSignedCertificate.KeyPairFiles first = SelfSignedCertificate.ensure(dir, urls, CLOCK, new SecureRandom());
    String cert = Files.readString(first.certFile());
    String key = Files.readString(first.keyFile());

    SelfSignedCertificate.KeyPairFiles again = SelfSignedCertificate.ensure(dir, urls,
        Clock.offset(CLOCK, Duration.ofDays(3)), new SecureRandom());

    assertThat(Files.readString(again.certFile())).isEqualTo(cert);
    assertThat(Files.readString(again.keyFile())).isEqualTo(key);
  }

  @Test
  void hosts_urls_withoutPortsBracketsOrDuplicates() {
    assertThat(SelfSignedCertificate.hosts(List.of(URI.create("https://LocalHost:1"), URI.create("https://localhost:2"),
        URI.create("https://[::1]:3"), URI.create("unixs://etcd.unix:1"), URI.create("http://0.0.0.0:0"))))
        .containsExactly("localhost", "::1", "etcd.unix", "0.0.0.0");
  }
}
