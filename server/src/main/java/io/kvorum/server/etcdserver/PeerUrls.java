package io.kvorum.server.etcdserver;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The URL rules etcd applies to member peer URLs (Go's {@code url.Parse}, then its
 * {@code types.NewURLs}): a scheme of http, https, unix or unixs; an authority whose host splits
 * into host and port as Go's {@code net.SplitHostPort} does (the host and the port may be empty,
 * but the colon must be there, and only one outside brackets); no path. A query or fragment is
 * allowed, as in etcd. Java's {@link java.net.URI} is stricter and looser in other places, so the
 * rules are spelt out here.
 */
final class PeerUrls {
  private static final Pattern SCHEME = Pattern.compile("[A-Za-z][A-Za-z0-9+.\\-]*");
  private static final Pattern PORT = Pattern.compile("[0-9]*");
  /** Characters Go accepts in a host name (unreserved, sub-delims, and ':' '[' ']' '%'). */
  private static final Pattern HOST_CHARS = Pattern.compile("[A-Za-z0-9.\\-_~!$&'()*+,;=:\\[\\]%\\u0080-\\uffff]*");

  private PeerUrls() {}

  /** The URLs, trimmed and with their scheme in lower case, or null if etcd would refuse one (or none is given). */
  static List<String> check(List<String> urls) {
    if (urls.isEmpty()) {
      return null;
    }
    List<String> out = new ArrayList<>(urls.size());
    for (String u : urls) {
      String url = normalise(u.strip());
      if (url == null) {
        return null;
      }
      out.add(url);
    }
    return out;
  }

  private static String normalise(String url) {
    int colon = url.indexOf(':');
    if (colon <= 0 || !SCHEME.matcher(url.substring(0, colon)).matches()) {
      return null;
    }
    String scheme = url.substring(0, colon).toLowerCase(Locale.ROOT);
    if (!(scheme.equals("http") || scheme.equals("https") || scheme.equals("unix") || scheme.equals("unixs"))) {
      return null;
    }
    String rest = url.substring(colon + 1);
    if (!rest.startsWith("//")) {
      return null; // no authority: Go's host is empty and has no port
    }
    int end = rest.length();
    for (char c : new char[] {'/', '?', '#'}) {
      int i = rest.indexOf(c, 2);
      if (i >= 0 && i < end) {
        end = i;
      }
    }
    if (end < rest.length() && rest.charAt(end) == '/') {
      return null; // a path
    }
    String authority = rest.substring(2, end);
    String host = authority.substring(authority.lastIndexOf('@') + 1);
    if (!hostPort(host)) {
      return null;
    }
    return scheme + url.substring(colon);
  }

  /** Go's url host parsing followed by net.SplitHostPort. */
  private static boolean hostPort(String host) {
    if (!HOST_CHARS.matcher(host).matches()) {
      return false;
    }
    String port;
    if (host.startsWith("[")) {
      int close = host.indexOf(']');
      if (close < 0 || !host.startsWith(":", close + 1)) {
        return false;
      }
      port = host.substring(close + 2);
      if (host.indexOf('[', 1) >= 0 || host.indexOf(']', close + 1) >= 0) {
        return false;
      }
    } else {
      int last = host.lastIndexOf(':');
      if (last < 0 || host.indexOf(':') != last || host.indexOf('[') >= 0 || host.indexOf(']') >= 0) {
        return false;
      }
      port = host.substring(last + 1);
    }
    return PORT.matcher(port).matches();
  }
}
