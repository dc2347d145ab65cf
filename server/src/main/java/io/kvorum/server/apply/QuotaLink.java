package io.kvorum.server.apply;

/**
 * The quota link (etcd's {@code quotaApplierV3}): refuses a put, txn or lease grant that would
 * take the backend over {@code --quota-backend-bytes}. Kvorum does not enforce a backend quota
 * yet, so every request passes; the quotas-and-alarms issue fills this link.
 */
final class QuotaLink extends ApplierLink {
  QuotaLink(RequestApplier next) {
    super(next);
  }
}
