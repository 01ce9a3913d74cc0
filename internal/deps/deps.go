package deps
import (
 _ "github.com/redis/go-redis/v9"
 _ "github.com/alicebob/miniredis/v2"
 _ "gorm.io/gorm"
 _ "gorm.io/driver/sqlite"
 _ "gorm.io/driver/postgres"
 _ "gorm.io/driver/mysql"
 _ "github.com/chromedp/chromedp"
 _ "github.com/spf13/cobra"
 _ "github.com/schollz/progressbar/v3"
 _ "github.com/google/uuid"
)
