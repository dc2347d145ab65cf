package io.kvorum.server.gojson;

/** UTF-8 as Go's {@code unicode/utf8} decodes it: one rune at a time, invalid bytes one by one. */
final class Utf8 {
  private Utf8() {}

  /**
   * The length of the valid UTF-8 sequence at {@code i}, or 0 if the byte there does not start one
   * (overlong forms, surrogates and code points past U+10FFFF are invalid, as in Go).
   */
  static int sequenceLength(byte[] b, int i) {
    int b0 = b[i] & 0xff;
    if (b0 < 0x80) {
      return 1;
    }
    int n;
    int lo = 0x80;
    int hi = 0xbf;
    if (b0 >= 0xc2 && b0 <= 0xdf) {
      n = 2;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
      n = 3;
      if (b0 == 0xe0) {
        lo = 0xa0;
      } else if (b0 == 0xed) {
        hi = 0x9f;
      }
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      n = 4;
      if (b0 == 0xf0) {
        lo = 0x90;
      } else if (b0 == 0xf4) {
        hi = 0x8f;
      }
    } else {
      return 0;
    }
    if (i + n > b.length) {
      return 0;
    }
    int b1 = b[i + 1] & 0xff;
    if (b1 < lo || b1 > hi) {
      return 0;
    }
    for (int k = 2; k < n; k++) {
      int bk = b[i + k] & 0xff;
      if (bk < 0x80 || bk > 0xbf) {
        return 0;
      }
    }
    return n;
  }
}
