package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lbm-project/lbm/internal/store"
)

var _ store.Notifications = (*DB)(nil)

const notificationColumns = `id, person, kind, request, reference, text, created, read_at`

// AddNotifications inserts each notification only if its person exists,
// in one transaction: an absent person or a stored ID (the primary key
// refuses it) rolls back the whole batch.
func (db *DB) AddNotifications(ctx context.Context, ns []store.Notification) error {
	return translate(pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		for _, n := range ns {
			tag, err := tx.Exec(ctx, `INSERT INTO notifications (`+notificationColumns+`)
				SELECT $1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::bigint, $8::bigint
				WHERE EXISTS (SELECT 1 FROM people WHERE id = $2)`,
				n.ID, n.Person, n.Kind, n.Request, n.Reference, n.Text, store.Nanos(n.Created), store.Nanos(n.Read))
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				return fmt.Errorf("adding notification %s: no person %q: %w", n.ID, n.Person, store.ErrNotFound)
			}
		}
		return nil
	}))
}

func scanNotification(row pgx.Row) (store.Notification, error) {
	var n store.Notification
	var created, read int64
	if err := row.Scan(&n.ID, &n.Person, &n.Kind, &n.Request, &n.Reference, &n.Text, &created, &read); err != nil {
		return store.Notification{}, translate(err)
	}
	n.Created, n.Read = store.FromNanos(created), store.FromNanos(read)
	return n, nil
}

// NotificationsFor reads the person's index range backwards: newest first,
// then the greater ID first (COLLATE "C": byte order, as on SQLite).
func (db *DB) NotificationsFor(ctx context.Context, person string, unreadOnly bool, limit int) ([]store.Notification, error) {
	if limit <= 0 {
		limit = store.DefaultNotificationLimit
	}
	where := `person = $1`
	if unreadOnly {
		where += ` AND read_at = 0`
	}
	return queryAll(ctx, db.pool, scanNotification, `SELECT `+notificationColumns+` FROM notifications
		WHERE `+where+` ORDER BY created DESC, id DESC LIMIT $2`, person, limit)
}

// CountUnread counts the person's rows of the partial unread index.
func (db *DB) CountUnread(ctx context.Context, person string) (int, error) {
	var n int
	err := db.pool.QueryRow(ctx, `SELECT count(*) FROM notifications WHERE person = $1 AND read_at = 0`, person).Scan(&n)
	return n, translate(err)
}

// MarkNotificationRead is one UPDATE guarded by the person and the unread
// state; when it changes nothing, the notification is either the person's
// and read already (nothing to do) or not the person's at all.
func (db *DB) MarkNotificationRead(ctx context.Context, person, id string, at time.Time) error {
	if at.IsZero() {
		return errors.New("marking a notification read at the zero time")
	}
	tag, err := db.pool.Exec(ctx, `UPDATE notifications SET read_at = $1 WHERE id = $2 AND person = $3 AND read_at = 0`,
		store.Nanos(at), id, person)
	if err != nil {
		return translate(err)
	}
	if tag.RowsAffected() > 0 {
		return nil
	}
	err = db.pool.QueryRow(ctx, `SELECT 1 FROM notifications WHERE id = $1 AND person = $2`, id, person).Scan(new(int))
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("marking notification %s read: %w", id, store.ErrNotFound)
	}
	return translate(err) // nil: read already, and the first reading stands
}
