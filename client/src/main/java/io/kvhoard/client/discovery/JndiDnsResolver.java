package io.kvhoard.client.discovery;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;
import javax.naming.NameNotFoundException;
import javax.naming.NamingEnumeration;
import javax.naming.NamingException;
import javax.naming.directory.Attribute;
import javax.naming.directory.Attributes;
import javax.naming.directory.DirContext;
import javax.naming.directory.InitialDirContext;

/**
 * {@link DnsResolver} on the JDK's JNDI DNS provider ({@code com.sun.jndi.dns.DnsContextFactory},
 * part of every JDK in module {@code jdk.naming.dns}); its name servers are the system's. A new
 * context per query: contexts are not thread-safe, and a query is rare (one per refresh).
 *
 * <p>Thread-safe.
 */
final class JndiDnsResolver implements DnsResolver {
  private static final String FACTORY = "com.sun.jndi.dns.DnsContextFactory";

  @Override
  public List<String> addresses(String name) throws IOException {
    List<String> out = new ArrayList<>();
    for (String type : new String[] {"A", "AAAA"}) {
      out.addAll(query(name, type));
    }
    return out;
  }

  @Override
  public List<SrvRecord> services(String name) throws IOException {
    List<SrvRecord> out = new ArrayList<>();
    for (String value : query(name, "SRV")) {
      String[] f = value.trim().split("\\s+");
      if (f.length != 4) {
        throw new IOException("malformed SRV record for " + name + ": '" + value + "'");
      }
      String target = f[3].endsWith(".") ? f[3].substring(0, f[3].length() - 1) : f[3];
      try {
        out.add(
            new SrvRecord(
                Integer.parseInt(f[0]), Integer.parseInt(f[1]), Integer.parseInt(f[2]), target));
      } catch (NumberFormatException e) {
        throw new IOException("malformed SRV record for " + name + ": '" + value + "'", e);
      }
    }
    return out;
  }

  private static List<String> query(String name, String type) throws IOException {
    Hashtable<String, String> env = new Hashtable<>();
    env.put(DirContext.INITIAL_CONTEXT_FACTORY, FACTORY);
    env.put(DirContext.PROVIDER_URL, "dns:");
    env.put("com.sun.jndi.dns.timeout.initial", "500");
    env.put("com.sun.jndi.dns.timeout.retries", "2");
    List<String> out = new ArrayList<>();
    DirContext ctx = null;
    try {
      ctx = new InitialDirContext(env);
      Attributes attrs = ctx.getAttributes(name, new String[] {type});
      Attribute a = attrs.get(type);
      if (a != null) {
        NamingEnumeration<?> values = a.getAll();
        while (values.hasMore()) {
          out.add(values.next().toString());
        }
      }
      return out;
    } catch (NameNotFoundException e) {
      return out;
    } catch (NamingException e) {
      throw new IOException("DNS " + type + " query for " + name + " failed: " + e, e);
    } finally {
      if (ctx != null) {
        try {
          ctx.close();
        } catch (NamingException ignored) {
          // nothing held beyond the query
        }
      }
    }
  }
}
