package io.kvorum.server.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class CipherSuitesTest {
  @Test
  void toJsse_etcdE2eList_keepsOrderAndTranslatesChaChaAliases() throws Exception {
    assertThat(CipherSuites.toJsse(List.of(
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305")))
        .containsExactly(
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256");
  }

  @Test
  void toJsse_unknownName_failsWithEtcdMessage() {
    assertThatThrownBy(() -> CipherSuites.toJsse(List.of("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-DES-CBC3-SHA")))
        .isInstanceOf(TlsException.class)
        .hasMessage("unexpected TLS cipher suite \"ECDHE-RSA-DES-CBC3-SHA\"");
  }

  @Test
  void supported_rc4_droppedButOthersKept() throws Exception {
    assertThat(CipherSuites.supported(List.of("TLS_RSA_WITH_RC4_128_SHA", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")))
        .containsExactly("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
    assertThatThrownBy(() -> CipherSuites.supported(List.of("TLS_RSA_WITH_RC4_128_SHA")))
        .isInstanceOf(TlsException.class);
  }

  @Test
  void protocols_dependOnTheList() {
    assertThat(CipherSuites.protocols(List.of())).containsExactly("TLSv1.3", "TLSv1.2");
    assertThat(CipherSuites.protocols(List.of("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"))).containsExactly("TLSv1.2");
    assertThat(CipherSuites.protocols(List.of("TLS_AES_128_GCM_SHA256"))).containsExactly("TLSv1.3");
    assertThat(CipherSuites.protocols(List.of("TLS_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")))
        .containsExactly("TLSv1.3", "TLSv1.2");
  }
}
