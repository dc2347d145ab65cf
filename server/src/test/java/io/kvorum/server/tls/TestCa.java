package io.kvorum.server.tls;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.util.io.pem.PemObject;

/**
 * A certificate authority made for one test: its own root (so certificates it signs are foreign
 * to etcd's fixture CA and to every other {@code TestCa}), issuing certificates with a chosen
 * common name and host names, good for both server and client authentication, written as PEM files
 * the TLS flags take. Keys are ECDSA P-256, in PKCS#8.
 */
public final class TestCa {
  private static final Duration VALIDITY = Duration.ofDays(2);
  private static final int SERIAL_BITS = 96;

  private final Path dir;
  private final KeyPair key;
  private final X500Name subject;
  private final X509Certificate cert;
  private final SecureRandom random = new SecureRandom();

  /** The files of one issued certificate. */
  public record Issued(Path certFile, Path keyFile) {}

  private TestCa(Path dir, String name) throws IOException {
    this.dir = dir;
    try {
      Files.createDirectories(dir);
      this.key = newKey(random);
      this.subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, name).build();
      Instant now = Instant.now();
      X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject, new BigInteger(SERIAL_BITS, random),
          Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(VALIDITY)), subject, key.getPublic());
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
      b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      this.cert = sign(b);
      Files.writeString(caFile(), Pem.encode(cert), StandardCharsets.US_ASCII);
    } catch (GeneralSecurityException | OperatorCreationException e) {
      throw new IOException("cannot make test CA " + name + ": " + e.getMessage(), e);
    }
  }

  /** A new CA named {@code name}, keeping its files under {@code dir}. */
  public static TestCa create(Path dir, String name) throws IOException {
    return new TestCa(dir, name);
  }

  /** The CA's certificate, the trusted-CA file for whoever should trust it. */
  public Path caFile() {
    return dir.resolve("ca.crt");
  }

  /**
   * Issues a certificate for {@code commonName} naming {@code hosts} (IP literals as IP address
   * SANs, others as DNS SANs), saved as {@code <file>.crt} and {@code <file>.key}.
   */
  public Issued issue(String file, String commonName, List<String> hosts) throws IOException {
    try {
      KeyPair kp = newKey(random);
      Instant now = Instant.now();
      X500Name name = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, commonName).build();
      X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject, new BigInteger(SERIAL_BITS, random),
          Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(VALIDITY)), name, kp.getPublic());
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
      b.addExtension(Extension.extendedKeyUsage, false,
          new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
      List<GeneralName> names = new ArrayList<>();
      for (String h : hosts) {
        names.add(SelfSignedCertificate.isIpLiteral(h) ? new GeneralName(GeneralName.iPAddress, h)
            : new GeneralName(GeneralName.dNSName, h));
      }
      if (!names.isEmpty()) {
        b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names.toArray(new GeneralName[0])));
      }
      X509Certificate c = sign(b);
      Path certFile = dir.resolve(file + ".crt");
      Path keyFile = dir.resolve(file + ".key");
      Files.writeString(certFile, Pem.encode(c), StandardCharsets.US_ASCII);
      Files.writeString(keyFile, Pem.encode(new PemObject("PRIVATE KEY", kp.getPrivate().getEncoded())),
          StandardCharsets.US_ASCII);
      return new Issued(certFile, keyFile);
    } catch (GeneralSecurityException | OperatorCreationException e) {
      throw new IOException("cannot issue " + file + ": " + e.getMessage(), e);
    }
  }

  private X509Certificate sign(X509v3CertificateBuilder b) throws GeneralSecurityException, OperatorCreationException {
    return new JcaX509CertificateConverter().getCertificate(
        b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(key.getPrivate())));
  }

  private static KeyPair newKey(SecureRandom random) throws GeneralSecurityException {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"), random);
    return g.generateKeyPair();
  }
}
