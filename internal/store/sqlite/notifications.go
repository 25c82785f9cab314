package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/lbm-project/lbm/internal/store"
)

var _ store.Notifications = (*DB)(nil)

const notificationColumns = `id, person, kind, request, reference, text, created, read_at`

// AddNotifications inserts each notification only if its person exists,
// in one IMMEDIATE transaction: an absent person or a stored ID (the
// primary key refuses it) rolls back the whole batch.
func (db *DB) AddNotifications(ctx context.Context, ns []store.Notification) error {
	return translate(withTx(ctx, db.w, func(tx *sql.Tx) error {
		for _, n := range ns {
			res, err := tx.ExecContext(ctx, `INSERT INTO notifications (`+notificationColumns+`)
				SELECT ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM people WHERE id = ?)`,
				n.ID, n.Person, n.Kind, n.Request, n.Reference, n.Text, store.Nanos(n.Created), store.Nanos(n.Read), n.Person)
			if err != nil {
				return err
			}
			added, err := res.RowsAffected()
			if err != nil {
				return err
			}
			if added == 0 {
				return fmt.Errorf("adding notification %s: no person %q: %w", n.ID, n.Person, store.ErrNotFound)
			}
		}
		return nil
	}))
}

func scanNotification(row scanner) (store.Notification, error) {
	var n store.Notification
	var created, read int64
	if err := row.Scan(&n.ID, &n.Person, &n.Kind, &n.Request, &n.Reference, &n.Text, &created, &read); err != nil {
		return store.Notification{}, translate(err)
	}
	n.Created, n.Read = store.FromNanos(created), store.FromNanos(read)
	return n, nil
}

// NotificationsFor reads the person's index range backwards: newest first,
// then the greater ID first. The unread listing names the partial index,
// which holds only unread rows.
func (db *DB) NotificationsFor(ctx context.Context, person string, unreadOnly bool, limit int) ([]store.Notification, error) {
	if limit <= 0 {
		limit = store.DefaultNotificationLimit
	}
	from, where := `notifications INDEXED BY notifications_person`, `person = ?`
	if unreadOnly {
		from, where = `notifications INDEXED BY notifications_unread`, `person = ? AND read_at = 0`
	}
	return queryAll(ctx, db.r, scanNotification, `SELECT `+notificationColumns+` FROM `+from+`
		WHERE `+where+` ORDER BY created DESC, id DESC LIMIT ?`, person, limit)
}

// CountUnread counts the person's rows of the partial unread index.
func (db *DB) CountUnread(ctx context.Context, person string) (int, error) {
	var n int
	err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM notifications WHERE person = ? AND read_at = 0`, person).Scan(&n)
	return n, translate(err)
}

// MarkNotificationRead is one UPDATE guarded by the person and the unread
// state; when it changes nothing, the notification is either the person's
// and read already (nothing to do) or not the person's at all.
func (db *DB) MarkNotificationRead(ctx context.Context, person, id string, at time.Time) error {
	if at.IsZero() {
		return errors.New("marking a notification read at the zero time")
	}
	err := withTx(ctx, db.w, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE notifications SET read_at = ? WHERE id = ? AND person = ? AND read_at = 0`,
			store.Nanos(at), id, person)
		if err != nil {
			return err
		}
		return guarded(ctx, tx, res, `SELECT 1 FROM notifications WHERE id = ? AND person = ?`, id, person)
	})
	if errors.Is(err, store.ErrConflict) {
		return nil // read already: the first reading stands
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("marking notification %s read: %w", id, store.ErrNotFound)
	}
	return translate(err)
}
