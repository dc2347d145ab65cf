package io.kvorum.server.tls;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Set;

/**
 * A CRL file ({@code --client-crl-file}, {@code --peer-crl-file}) as etcd uses it: a deny list of
 * serial numbers checked against every certificate the other side presents. Like etcd, the CRL's
 * issuer, signature and dates are not checked (the e2e suite's fixture CRL expired in 2021), and
 * the file is read again when it changes, so revoking needs no restart; a file that cannot be read
 * rejects every connection until it is fixed, as in etcd.
 */
final class RevocationList {
  private final Path file;
  // Guarded by this.
  private FileTime modified;
  private long size = -1;
  private Set<BigInteger> serials;

  private RevocationList(Path file) {
    this.file = file;
  }

  /** Loads {@code file} now, so a broken one fails at start. */
  static RevocationList load(Path file) throws TlsException {
    RevocationList crl = new RevocationList(file);
    crl.current();
    return crl;
  }

  Path file() {
    return file;
  }

  /** Throws when a certificate of {@code chain} is revoked or the list cannot be read. */
  void check(X509Certificate[] chain) throws CertificateException {
    Set<BigInteger> revoked;
    try {
      revoked = current();
    } catch (TlsException e) {
      throw new CertificateException("transport: cannot read the revocation list: " + e.getMessage(), e);
    }
    for (X509Certificate c : chain) {
      if (revoked.contains(c.getSerialNumber())) {
        throw new CertificateException("transport: certificate serial " + Pem.hex(c.getSerialNumber()) + " revoked");
      }
    }
  }

  private synchronized Set<BigInteger> current() throws TlsException {
    BasicFileAttributes a;
    try {
      a = Files.readAttributes(file, BasicFileAttributes.class);
    } catch (IOException e) {
      throw new TlsException("open " + file + ": " + e.getMessage(), e);
    }
    if (serials == null || !a.lastModifiedTime().equals(modified) || a.size() != size) {
      serials = Pem.revokedSerials(file);
      modified = a.lastModifiedTime();
      size = a.size();
    }
    return serials;
  }
}
