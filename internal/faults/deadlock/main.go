// Command deadlock is the gormplugin deadlock program (issue 9's): two
// goroutines run -rounds transactions each, started together per round;
// each inserts an entry row, updates account X by condition, sleeps 30 ms
// and updates account Y (the second goroutine Y then X), so that every
// round deadlocks and the database picks a victim. It runs on PostgreSQL
// and on MariaDB/MySQL, once without and once with the bitmapist plugin
// (marking into a private redis-server on -port), and prints per run the
// transactions' outcomes (ok, or the driver's own error: pg:40P01,
// mysql:1213), the balances, the entry rows, and with the plugin the
// marks without their row (phantoms) and the rows without their mark.
// Without the plugin's effect on the database both runs must agree:
// committed transactions = X = Y = entry rows.
//
//	go run ./internal/faults/deadlock -rounds 20
//
// An empty -pg or -mysql skips that database. Its rounds are
// deadlockrun's, which gormplugin's TestDeadlockOutcomes runs too; the numbers are in
// docs/operations.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	bitmapistplugin "github.com/bitmapist-go/bitmapist/gormplugin"
	"github.com/bitmapist-go/bitmapist/internal/faults"
	"github.com/bitmapist-go/bitmapist/internal/faults/deadlockrun"
	"github.com/redis/go-redis/v9"
	"gorm.io/driver/mysql"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
	"gorm.io/gorm/schema"
)

func main() {
	pg := flag.String("pg", "host=127.0.0.1 user=postgres dbname=test sslmode=disable deadlock_timeout=50ms lock_timeout=3s", "PostgreSQL DSN (\"\" to skip)")
	my := flag.String("mysql", "root@tcp(127.0.0.1:3306)/test?parseTime=true&innodb_lock_wait_timeout=3", "MariaDB/MySQL DSN (\"\" to skip)")
	rounds := flag.Int("rounds", 20, "rounds (two transactions each)")
	port := flag.Int("port", 6412, "loopback port of the private redis-server")
	flag.Parse()
	ctx := context.Background()
	r, err := faults.StartRedis(ctx, faults.RedisConfig{Port: *port})
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	rdb := redis.NewClient(&redis.Options{Addr: r.Addr()})
	defer rdb.Close()
	dbs := []struct {
		name string
		open func() gorm.Dialector
	}{
		{"postgres", func() gorm.Dialector { return postgres.Open(*pg) }},
		{"mysql", func() gorm.Dialector { return mysql.Open(*my) }},
	}
	fmt.Printf("%d rounds of 2 transactions; %s\n", *rounds, loadAvg())
	failed := false
	for i, d := range dbs {
		if (i == 0 && *pg == "") || (i == 1 && *my == "") {
			continue
		}
		for _, plugin := range []bool{false, true} {
			o, err := runDeadlocks(ctx, d.open(), rdb, plugin, *rounds)
			if err != nil {
				log.Fatalf("%s: %v", d.name, err)
			}
			fmt.Printf("%-8s plugin=%-5v %s\n", d.name, plugin, o)
			failed = failed || !o.consistent(plugin)
		}
	}
	if failed {
		fmt.Println("INCONSISTENT: see above")
		os.Exit(1)
	}
}

// loadAvg returns the machine's load averages (/proc/loadavg).
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "load average unknown"
	}
	return "load average " + strings.Join(strings.Fields(string(b))[:3], " ")
}

// outcome is what one run saw.
type outcome struct {
	classes                 map[string]int
	balX, balY, entries     int
	phantom, missing        int
	failed, unknown, report int64
}

func (o outcome) String() string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(o.classes)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, o.classes[k]))
	}
	return fmt.Sprintf("outcomes [%s]  X=%d Y=%d entries=%d  marks: %d phantom, %d missing, %d failed, %d unknown, %d reported",
		strings.Join(parts, ", "), o.balX, o.balY, o.entries, o.phantom, o.missing, o.failed, o.unknown, o.report)
}

// consistent reports whether every committed transaction, and only those,
// left its rows (and, with the plugin, its marks), and whether the
// failures are the driver's deadlock errors.
func (o outcome) consistent(plugin bool) bool {
	ok := o.classes["ok"]
	for k := range o.classes {
		if k != "ok" && k != "pg:40P01" && k != "mysql:1213" {
			return false
		}
	}
	return o.balX == ok && o.balY == ok && o.entries == ok &&
		(!plugin || (o.phantom == 0 && o.missing == 0 && o.failed == 0 && o.unknown == 0 && o.report == 0))
}

// runDeadlocks runs the program once on fresh tables of dial.
func runDeadlocks(ctx context.Context, dial gorm.Dialector, rdb *redis.Client, plugin bool, rounds int) (outcome, error) {
	prefix := fmt.Sprintf("dl%d_", time.Now().UnixNano())
	db, err := gorm.Open(dial, &gorm.Config{Logger: logger.Discard, NamingStrategy: schema.NamingStrategy{TablePrefix: prefix}})
	if err != nil {
		return outcome{}, err
	}
	if sqlDB, err := db.DB(); err == nil {
		defer sqlDB.Close()
	}
	if err := db.AutoMigrate(&deadlockrun.Acct{}, &deadlockrun.Entry{}); err != nil {
		return outcome{}, err
	}
	defer db.Migrator().DropTable(&deadlockrun.Acct{}, &deadlockrun.Entry{})
	if err := db.Create(&[]deadlockrun.Acct{{ID: 1}, {ID: 2}}).Error; err != nil {
		return outcome{}, err
	}
	var p *bitmapistplugin.Plugin
	var reports sync.Map
	c := bitmapist.New(rdb, bitmapist.WithPrefix(prefix))
	if plugin {
		p = bitmapistplugin.New(nil, bitmapistplugin.WithClient(c), bitmapistplugin.WithTimeout(10*time.Second),
			bitmapistplugin.WithErrorHandler(func(_ context.Context, err error) { reports.Store(err, true) }))
		if err := db.Use(p); err != nil {
			return outcome{}, err
		}
		defer p.Close()
	}
	o := outcome{classes: deadlockrun.Rounds(db, rounds)}
	err = audit(ctx, db, c, p, &reports, &o)
	return o, err
}

// audit fills in o's balances, entry rows and (with p) marks.
func audit(ctx context.Context, db *gorm.DB, c *bitmapist.Client, p *bitmapistplugin.Plugin, reports *sync.Map, o *outcome) error {
	var accts []deadlockrun.Acct
	if err := db.Order("id").Find(&accts).Error; err != nil {
		return err
	}
	o.balX, o.balY = accts[0].Bal, accts[1].Bal
	var ids []uint64
	if err := db.Model(&deadlockrun.Entry{}).Order("id").Pluck("id", &ids).Error; err != nil {
		return err
	}
	o.entries = len(ids)
	if p != nil {
		if err := p.Flush(ctx); err != nil {
			return err
		}
		marked, err := c.Day("entry:created", c.Now()).IDs(ctx)
		if err != nil {
			return err
		}
		for _, id := range marked {
			if !slices.Contains(ids, id) {
				o.phantom++
			}
		}
		for _, id := range ids {
			if !slices.Contains(marked, id) {
				o.missing++
			}
		}
		s := p.Stats()
		o.failed, o.unknown = s.Failed, s.Unknown
		reports.Range(func(any, any) bool { o.report++; return true })
	}
	return nil
}
