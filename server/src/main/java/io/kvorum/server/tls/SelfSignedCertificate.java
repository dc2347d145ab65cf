package io.kvorum.server.tls;

import java.io.IOException;
import java.math.BigInteger;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
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
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.util.io.pem.PemObject;

/**
 * etcd's auto-TLS ({@code --auto-tls}, {@code --peer-auto-tls}): a self-signed certificate and key
 * in {@code cert.pem}/{@code key.pem} of a directory ({@code <data-dir>/fixtures/client} or
 * {@code .../peer}), made once and reused on restart, as etcd's {@code transport.SelfCert}.
 *
 * <p>Like etcd's: subject {@code O=etcd}, a random 128-bit serial, valid for a year from now, key
 * usages digital signature and key encipherment, not a CA, and one SAN per listen host (an IP
 * address SAN for IP literals, a DNS SAN otherwise). Unlike etcd's, the key is ECDSA P-256 (etcd
 * uses P-521; every TLS stack speaks P-256, and nothing depends on the curve) and the certificate
 * is good for client authentication too, so a member can present its peer certificate when it
 * dials as well as when it listens. Nobody verifies these certificates: etcd skips verification
 * with auto-TLS, and so do we.
 */
final class SelfSignedCertificate {
  private static final System.Logger LOG = System.getLogger(SelfSignedCertificate.class.getName());
  static final String CERT_FILE = "cert.pem";
  static final String KEY_FILE = "key.pem";
  static final Duration VALIDITY = Duration.ofDays(365);
  static final int SERIAL_BITS = 128;
  /** More listen hosts than any member has; bounds the SAN list. */
  static final int HOSTS_MAX = 256;

  /** Where the certificate and key are. */
  record KeyPairFiles(Path certFile, Path keyFile) {}

  private SelfSignedCertificate() {}

  /**
   * The certificate and key in {@code dir}, made first when either is missing.
   *
   * @param listenUrls the URLs the certificate must name (their hosts become SANs)
   */
  static KeyPairFiles ensure(Path dir, List<URI> listenUrls, Clock clock, SecureRandom random) throws TlsException {
    Path cert = dir.resolve(CERT_FILE);
    Path key = dir.resolve(KEY_FILE);
    if (Files.exists(cert) && Files.exists(key)) {
      return new KeyPairFiles(cert, key);
    }
    List<String> hosts = hosts(listenUrls);
    try {
      createPrivateDirectory(dir);
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"), random);
      KeyPair kp = g.generateKeyPair();
      X509Certificate c = generate(kp, hosts, clock.instant(), random);
      // The key first: a crash between the two leaves no certificate, so the next start makes both.
      writeAtomically(key, Pem.encode(sec1(kp)), true);
      writeAtomically(cert, Pem.encode(c), false);
      LOG.log(System.Logger.Level.INFO, "created self-signed certificate {0} (key {1}) for hosts {2}", cert, key, hosts);
      return new KeyPairFiles(cert, key);
    } catch (IOException | GeneralSecurityException | OperatorCreationException e) {
      throw new TlsException("cannot create a self-signed certificate in " + dir + ": " + e.getMessage(), e);
    }
  }

  /** A self-signed certificate for {@code kp} naming {@code hosts}. */
  static X509Certificate generate(KeyPair kp, List<String> hosts, Instant now, SecureRandom random)
      throws GeneralSecurityException, OperatorCreationException, IOException {
    X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, "etcd").build();
    BigInteger serial = new BigInteger(SERIAL_BITS, random);
    X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject, serial, Date.from(now),
        Date.from(now.plus(VALIDITY)), subject, kp.getPublic());
    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
    b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
    b.addExtension(Extension.extendedKeyUsage, false,
        new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
    List<GeneralName> names = new ArrayList<>();
    for (String h : hosts) {
      names.add(isIpLiteral(h) ? new GeneralName(GeneralName.iPAddress, h) : new GeneralName(GeneralName.dNSName, h));
    }
    if (!names.isEmpty()) {
      b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names.toArray(new GeneralName[0])));
    }
    return new JcaX509CertificateConverter().getCertificate(
        b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate())));
  }

  /**
   * The key as Go's {@code x509.MarshalECPrivateKey} writes it ({@code EC PRIVATE KEY}, SEC1 with
   * the curve and the public key), which every TLS stack reads.
   */
  private static PemObject sec1(KeyPair kp) throws IOException {
    ECPrivateKey priv = (ECPrivateKey) kp.getPrivate();
    SubjectPublicKeyInfo pub = SubjectPublicKeyInfo.getInstance(kp.getPublic().getEncoded());
    org.bouncycastle.asn1.sec.ECPrivateKey der = new org.bouncycastle.asn1.sec.ECPrivateKey(
        priv.getParams().getOrder().bitLength(), priv.getS(), pub.getPublicKeyData(), SECObjectIdentifiers.secp256r1);
    return new PemObject("EC PRIVATE KEY", der.getEncoded());
  }

  /** The distinct hosts of {@code urls}, without brackets or ports. */
  static List<String> hosts(List<URI> urls) {
    Set<String> hosts = new LinkedHashSet<>();
    for (URI u : urls) {
      String h = u.getHost();
      if (h == null) {
        // unix://name:port and similar: etcd takes the authority's host part.
        String a = u.getRawAuthority();
        if (a == null) {
          continue;
        }
        int colon = a.lastIndexOf(':');
        h = colon > 0 ? a.substring(0, colon) : a;
      }
      if (h.startsWith("[") && h.endsWith("]")) {
        h = h.substring(1, h.length() - 1);
      }
      if (!h.isEmpty() && hosts.size() < HOSTS_MAX) {
        hosts.add(h.toLowerCase(Locale.ROOT));
      }
    }
    return List.copyOf(hosts);
  }

  static boolean isIpLiteral(String h) {
    if (h.indexOf(':') >= 0) {
      return true;
    }
    return h.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}");
  }

  private static void createPrivateDirectory(Path dir) throws IOException {
    if (Files.isDirectory(dir)) {
      return;
    }
    try {
      Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    } catch (UnsupportedOperationException e) {
      Files.createDirectories(dir);
    } catch (FileAlreadyExistsException e) {
      // A file, not a directory: the write below says so.
    }
  }

  private static void writeAtomically(Path file, String text, boolean secret) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.deleteIfExists(tmp);
    try {
      Files.createFile(tmp, PosixFilePermissions.asFileAttribute(
          PosixFilePermissions.fromString(secret ? "rw-------" : "rw-r--r--")));
    } catch (UnsupportedOperationException e) {
      Files.createFile(tmp);
    }
    Files.writeString(tmp, text, StandardCharsets.US_ASCII);
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }
}
