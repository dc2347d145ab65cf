package io.kvorum.server.tls;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Reader;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CRLEntryHolder;
import org.bouncycastle.cert.X509CRLHolder;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;

/**
 * Reads and writes the PEM files etcd takes: certificate chains and CA bundles
 * ({@code CERTIFICATE} blocks), private keys in all three forms Go's {@code tls.X509KeyPair}
 * accepts ({@code RSA PRIVATE KEY} = PKCS#1, {@code EC PRIVATE KEY} = SEC1, {@code PRIVATE KEY} =
 * PKCS#8), and revocation lists (PEM {@code X509 CRL} or DER, as Go's {@code x509.ParseCRL}).
 * Text around the blocks is skipped, as Go's {@code pem.Decode} does.
 */
final class Pem {
  /** Largest certificate or key file read; real ones are a few KiB. */
  static final long PEM_FILE_BYTES_MAX = 1L << 20;
  /** Largest revocation list read; a CRL grows with every revoked certificate. */
  static final long CRL_FILE_BYTES_MAX = 64L << 20;

  private Pem() {}

  /** Every certificate in {@code file}, in file order; at least one. */
  static List<X509Certificate> certificates(Path file) throws TlsException {
    List<X509Certificate> out = new ArrayList<>();
    JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
    try (PEMParser p = parser(file, PEM_FILE_BYTES_MAX)) {
      for (Object o = p.readObject(); o != null; o = p.readObject()) {
        if (o instanceof X509CertificateHolder h) {
          out.add(converter.getCertificate(h));
        }
      }
    } catch (IOException | CertificateException | RuntimeException e) {
      throw failed("certificate", file, e);
    }
    if (out.isEmpty()) {
      throw new TlsException("tls: failed to find any PEM data in certificate input (" + file + ")");
    }
    return out;
  }

  /** The first private key in {@code file}; encrypted keys are refused, as etcd refuses them. */
  static PrivateKey privateKey(Path file) throws TlsException {
    JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
    try (PEMParser p = parser(file, PEM_FILE_BYTES_MAX)) {
      for (Object o = p.readObject(); o != null; o = p.readObject()) {
        if (o instanceof PEMKeyPair kp) {
          // The public half is optional in a SEC1 EC key (the JDK omits it); the private half is enough.
          return converter.getPrivateKey(kp.getPrivateKeyInfo());
        }
        if (o instanceof PrivateKeyInfo info) {
          return converter.getPrivateKey(info);
        }
        if (o instanceof PEMEncryptedKeyPair || o instanceof PKCS8EncryptedPrivateKeyInfo) {
          throw new TlsException("tls: private key in " + file + " is encrypted, which is not supported");
        }
        // Anything else (EC PARAMETERS before an EC key, a certificate) is skipped.
      }
    } catch (TlsException e) {
      throw e;
    } catch (IOException | RuntimeException e) {
      throw failed("private key", file, e);
    }
    throw new TlsException("tls: failed to find any PEM data in key input (" + file + ")");
  }

  /**
   * The serial numbers a revocation list revokes. The list's own dates and signature are not
   * checked, as etcd does not check them: a CRL is a plain deny list of serials.
   */
  static Set<BigInteger> revokedSerials(Path file) throws TlsException {
    byte[] bytes = read(file, CRL_FILE_BYTES_MAX);
    X509CRLHolder crl;
    try {
      if (looksLikePem(bytes)) {
        try (PEMParser p = new PEMParser(reader(bytes))) {
          Object o = p.readObject();
          while (o != null && !(o instanceof X509CRLHolder)) {
            o = p.readObject();
          }
          if (o == null) {
            throw new TlsException("no X509 CRL block in revocation list " + file);
          }
          crl = (X509CRLHolder) o;
        }
      } else {
        crl = new X509CRLHolder(bytes);
      }
    } catch (TlsException e) {
      throw e;
    } catch (IOException | RuntimeException e) {
      throw failed("revocation list", file, e);
    }
    Set<BigInteger> serials = new HashSet<>();
    for (Object entry : crl.getRevokedCertificates()) {
      serials.add(((X509CRLEntryHolder) entry).getSerialNumber());
    }
    return Collections.unmodifiableSet(serials);
  }

  /** {@code objects} (certificates, keys) as PEM text. */
  static String encode(Object... objects) throws IOException {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(out)) {
      for (Object o : objects) {
        w.writeObject(o);
      }
    }
    return out.toString();
  }

  private static PEMParser parser(Path file, long bytesMax) throws TlsException {
    return new PEMParser(reader(read(file, bytesMax)));
  }

  private static Reader reader(byte[] bytes) {
    return new InputStreamReader(new ByteArrayInputStream(bytes), StandardCharsets.US_ASCII);
  }

  private static byte[] read(Path file, long bytesMax) throws TlsException {
    try {
      long size = Files.size(file);
      if (size > bytesMax) {
        throw new TlsException(file + " is " + size + " bytes, more than the " + bytesMax + " a TLS file may have");
      }
      return Files.readAllBytes(file);
    } catch (TlsException e) {
      throw e;
    } catch (IOException e) {
      throw new TlsException("open " + file + ": " + describe(e), e);
    }
  }

  private static boolean looksLikePem(byte[] bytes) {
    String head = new String(bytes, 0, Math.min(bytes.length, 4096), StandardCharsets.US_ASCII);
    return head.contains("-----BEGIN");
  }

  private static TlsException failed(String what, Path file, Exception e) {
    if (e instanceof TlsException t) {
      return t;
    }
    return new TlsException("cannot read " + what + " from " + file + ": " + describe(e), e);
  }

  private static String describe(Exception e) {
    if (e instanceof java.nio.file.NoSuchFileException) {
      return "no such file or directory";
    }
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }

  /** Upper-case hex of a serial number, as OpenSSL prints it. */
  static String hex(BigInteger serial) {
    return serial.toString(16).toUpperCase(java.util.Locale.ROOT);
  }
}
