// authsetup.go - added by Kvorum's bench/scripts/auth-compare.sh to a private copy of kvbench
// (../shared/bench is never modified). With KVBENCH_USER set, before a workload runs it makes the
// server ready for an authenticated load (idempotently: once auth is on, the calls fail and that is
// fine): user KVBENCH_USER with password KVBENCH_PASSWORD and the root role, then auth enabled.
// The workload's clients then authenticate as that user (the patched newClient passes Username and
// Password to clientv3), so every request carries a token and goes through the auth checks.
package main

import (
	"context"
	"os"
	"strings"
	"time"

	"go.etcd.io/etcd/clientv3"
)

func init() {
	user := os.Getenv("KVBENCH_USER")
	if user == "" || len(os.Args) < 2 {
		return
	}
	switch os.Args[1] {
	case "report", "wait", "list":
		return
	}
	eps := os.Getenv("KVBENCH_ENDPOINTS")
	for i, a := range os.Args {
		if a == "--endpoints" && i+1 < len(os.Args) {
			eps = os.Args[i+1]
		} else if strings.HasPrefix(a, "--endpoints=") {
			eps = strings.TrimPrefix(a, "--endpoints=")
		}
	}
	if eps == "" {
		eps = "127.0.0.1:2379"
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: strings.Split(eps, ","), DialTimeout: 5 * time.Second,
		LogConfig: quietZap()})
	if err != nil {
		return
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cli.UserAdd(ctx, user, os.Getenv("KVBENCH_PASSWORD"))
	cli.RoleAdd(ctx, "root")
	cli.UserGrantRole(ctx, user, "root")
	cli.AuthEnable(ctx)
}
