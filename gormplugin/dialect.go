package bitmapistplugin

import (
	"context"
	"reflect"
	"strings"
	"time"

	"gorm.io/gorm"
)

// detectServer records, for a MySQL-dialect db, whether its server is
// MariaDB (which has DELETE ... RETURNING), asking SELECT VERSION() once
// when the plugin is installed. A failed query counts as MySQL: deletes
// then pre-read their rows.
func (p *Plugin) detectServer(db *gorm.DB) {
	if db.Dialector.Name() != "mysql" || !reflect.TypeOf(db.Dialector).Comparable() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var version string
	maria := db.ConnPool.QueryRowContext(ctx, "SELECT VERSION()").Scan(&version) == nil &&
		strings.Contains(strings.ToLower(version), "mariadb")
	p.servers.Store(db.Dialector, maria)
}

// isMariaDB reports whether db's server was found to be MariaDB.
func (p *Plugin) isMariaDB(db *gorm.DB) bool {
	if !reflect.TypeOf(db.Dialector).Comparable() {
		return false
	}
	v, _ := p.servers.Load(db.Dialector)
	maria, _ := v.(bool)
	return maria
}
