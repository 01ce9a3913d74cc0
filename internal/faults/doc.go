// Package faults injects Redis faults for tests and fault programs: a
// private redis-server on a loopback port of the caller's choosing that can
// be killed, restarted, paused with CLIENT PAUSE and filled up to its
// maxmemory (Redis), and a TCP proxy that either forwards to a server or
// blackholes (accepts connections and never answers, as a partitioned or
// hung host does) (Proxy).
//
// Never point it at a shared server: every fault is applied to the
// redis-server this package started itself, or to the traffic through a
// Proxy.
//
//	r, err := faults.StartRedis(ctx, faults.RedisConfig{Port: 6410})
//	defer r.Close()
//	px, err := faults.NewProxy("127.0.0.1:6411", r.Addr())
//	defer px.Close()
//	rdb := redis.NewClient(&redis.Options{Addr: px.Addr()})
//	px.Blackhole() // rdb's commands now hang
//	px.Forward()   // and go through again
//	r.Kill()       // connection refused
//	r.Restart(ctx) // a fresh, empty server on the same port
//	r.Pause(ctx, 10*time.Second) // CLIENT PAUSE 10000 ALL: every command waits 10 s
//	r.FillMemory(ctx)            // writes now fail with OOM
//	r.ClearMemory(ctx)           // and succeed again
//
// redis-server must be on PATH (or RedisConfig.Binary). A Port of 0 picks a
// free ephemeral port.
package faults
