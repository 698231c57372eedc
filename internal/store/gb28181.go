package store

import (
	"context"
	"database/sql"
	"fmt"

	"civicam/internal/gb28181"
)

const gbDeviceColumns = `id, name, organisation_id, online, transport, remote_addr, manufacturer, model, firmware,
	password, no_digest, registered_at, last_seen`

func scanGBDevice(s scanner) (*gb28181.Device, error) {
	var d gb28181.Device
	var org sql.NullString
	var registered, seen int64
	if err := s.Scan(&d.ID, &d.Name, &org, &d.Online, &d.Transport, &d.RemoteAddr, &d.Manufacturer, &d.Model,
		&d.Firmware, &d.Password, &d.NoDigest, &registered, &seen); err != nil {
		return nil, err
	}
	d.OrganisationID = org.String
	d.RegisteredAt, d.LastSeen = FromMicros(registered), FromMicros(seen)
	d.Channels = []gb28181.Channel{}
	return &d, nil
}

const gbChannelColumns = `device_id, id, name, status, camera_id, parent_id, manufacturer, model, address, lat, lon`

type deviceChannel struct {
	device string
	ch     gb28181.Channel
}

func scanGBChannel(s scanner) (deviceChannel, error) {
	var dc deviceChannel
	var cam sql.NullString
	c := &dc.ch
	err := s.Scan(&dc.device, &c.ID, &c.Name, &c.Status, &cam, &c.ParentID, &c.Manufacturer, &c.Model, &c.Address, &c.Lat, &c.Lon)
	c.CameraID = cam.String
	return dc, err
}

// GBDevice returns one device with its channels, or ErrNotFound.
func (db *DB) GBDevice(ctx context.Context, id string) (*gb28181.Device, error) {
	d, err := queryOne(ctx, db.sql, "gb28181 device "+id, ErrNotFound, scanGBDevice,
		`SELECT `+gbDeviceColumns+` FROM gb_devices WHERE id = $1`, id)
	if err != nil {
		return nil, err
	}
	if err := db.attachGBChannels(ctx, []*gb28181.Device{d}, `WHERE device_id = $1`, id); err != nil {
		return nil, err
	}
	return d, nil
}

// GBDevices lists the devices a filter admits, by id, with their channels.
func (db *DB) GBDevices(ctx context.Context, f gb28181.DeviceFilter) ([]*gb28181.Device, error) {
	where, args := "", []any{}
	if !f.All {
		where, args = ` WHERE organisation_id IS NULL OR organisation_id = $1`, []any{f.OrganisationID}
	}
	ds, err := queryAll(ctx, db.sql, "gb28181 devices", scanGBDevice, `SELECT `+gbDeviceColumns+` FROM gb_devices`+where+` ORDER BY id`, args...)
	if err != nil {
		return nil, err
	}
	chWhere := ""
	if !f.All {
		chWhere = `WHERE device_id IN (SELECT id FROM gb_devices` + where + `)`
	}
	if err := db.attachGBChannels(ctx, ds, chWhere, args...); err != nil {
		return nil, err
	}
	return ds, nil
}

func (db *DB) attachGBChannels(ctx context.Context, ds []*gb28181.Device, where string, args ...any) error {
	rows, err := queryAll(ctx, db.sql, "gb28181 channels", scanGBChannel, `SELECT `+gbChannelColumns+` FROM gb_channels `+where+` ORDER BY device_id, id`, args...)
	if err != nil {
		return err
	}
	byID := make(map[string]*gb28181.Device, len(ds))
	for _, d := range ds {
		byID[d.ID] = d
	}
	for _, r := range rows {
		if d, ok := byID[r.device]; ok {
			d.Channels = append(d.Channels, r.ch)
		}
	}
	return nil
}

// SaveGBDevice inserts or updates a device's own row; its organisation and channels are kept.
func (db *DB) SaveGBDevice(ctx context.Context, d *gb28181.Device) error {
	_, err := db.sql.ExecContext(ctx, `INSERT INTO gb_devices (id, name, online, transport, remote_addr, manufacturer,
		model, firmware, password, no_digest, registered_at, last_seen) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, online = excluded.online, transport = excluded.transport,
		remote_addr = excluded.remote_addr, manufacturer = excluded.manufacturer, model = excluded.model,
		firmware = excluded.firmware, password = excluded.password, no_digest = excluded.no_digest, registered_at = excluded.registered_at,
		last_seen = excluded.last_seen`,
		d.ID, d.Name, d.Online, d.Transport, d.RemoteAddr, d.Manufacturer, d.Model, d.Firmware, d.Password, d.NoDigest,
		Micros(d.RegisteredAt), Micros(d.LastSeen))
	if err != nil {
		return fmt.Errorf("save gb28181 device %s: %w", d.ID, err)
	}
	return nil
}

// SaveGBChannels stores a catalog (see gb28181.Repo).
func (db *DB) SaveGBChannels(ctx context.Context, deviceID string, chans []gb28181.Channel, complete bool) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		for _, c := range chans {
			if _, err := tx.ExecContext(ctx, `INSERT INTO gb_channels (device_id, id, name, status, parent_id, manufacturer,
				model, address, lat, lon) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
				ON CONFLICT (device_id, id) DO UPDATE SET name = excluded.name, status = excluded.status,
				parent_id = excluded.parent_id, manufacturer = excluded.manufacturer, model = excluded.model,
				address = excluded.address, lat = excluded.lat, lon = excluded.lon`,
				deviceID, c.ID, c.Name, c.Status, c.ParentID, c.Manufacturer, c.Model, c.Address, c.Lat, c.Lon); err != nil {
				return fmt.Errorf("save gb28181 channel %s/%s: %w", deviceID, c.ID, err)
			}
		}
		if !complete {
			return nil
		}
		ids := make([]any, 0, len(chans)+1)
		ids = append(ids, deviceID)
		for _, c := range chans {
			ids = append(ids, c.ID)
		}
		notIn := ""
		if len(chans) > 0 {
			notIn = ` AND id NOT IN (` + placeholders(2, len(chans)) + `)`
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM gb_channels WHERE device_id = $1 AND camera_id IS NULL`+notIn, ids...); err != nil {
			return fmt.Errorf("prune gb28181 channels of %s: %w", deviceID, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE gb_channels SET status = 'offline' WHERE device_id = $1`+notIn, ids...); err != nil {
			return fmt.Errorf("mark gone gb28181 channels of %s: %w", deviceID, err)
		}
		return nil
	})
}

// AdoptGBDevice sets a device's organisation and its channels' cameras.
func (db *DB) AdoptGBDevice(ctx context.Context, id, organisationID string, cameras map[string]string) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE gb_devices SET organisation_id = $1 WHERE id = $2`, organisationID, id)
		if err != nil {
			return fmt.Errorf("adopt gb28181 device %s: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("gb28181 device %s: %w", id, ErrNotFound)
		}
		for ch, cam := range cameras {
			if _, err := tx.ExecContext(ctx, `UPDATE gb_channels SET camera_id = $1 WHERE device_id = $2 AND id = $3`, cam, id, ch); err != nil {
				return fmt.Errorf("adopt gb28181 channel %s/%s: %w", id, ch, err)
			}
		}
		return nil
	})
}

// SaveGBDialog records an open play dialog (see gb28181.Repo).
func (db *DB) SaveGBDialog(ctx context.Context, d gb28181.Dialog) error {
	_, err := db.sql.ExecContext(ctx, `INSERT INTO gb_dialogs (call_id, platform, device_id, channel_id, transport,
		remote_addr, target, from_tag, to_tag, cseq, started_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		ON CONFLICT (call_id) DO UPDATE SET to_tag = excluded.to_tag, cseq = excluded.cseq`,
		d.CallID, d.Platform, d.DeviceID, d.ChannelID, d.Transport, d.Remote, d.Target, d.FromTag, d.ToTag,
		int64(d.CSeq), Micros(d.StartedAt))
	if err != nil {
		return fmt.Errorf("save gb28181 dialog %s: %w", d.CallID, err)
	}
	return nil
}

// DeleteGBDialog forgets a dialog that ended; an unknown one is no error.
func (db *DB) DeleteGBDialog(ctx context.Context, callID string) error {
	if _, err := db.sql.ExecContext(ctx, `DELETE FROM gb_dialogs WHERE call_id = $1`, callID); err != nil {
		return fmt.Errorf("delete gb28181 dialog %s: %w", callID, err)
	}
	return nil
}

// GBDialogs lists the dialogs a platform (its SIP address) has open, oldest first.
func (db *DB) GBDialogs(ctx context.Context, platform string) ([]gb28181.Dialog, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT call_id, platform, device_id, channel_id, transport, remote_addr,
		target, from_tag, to_tag, cseq, started_at FROM gb_dialogs WHERE platform = $1 ORDER BY started_at, call_id`, platform)
	if err != nil {
		return nil, fmt.Errorf("gb28181 dialogs: %w", err)
	}
	defer rows.Close()
	var out []gb28181.Dialog
	for rows.Next() {
		var d gb28181.Dialog
		var cseq, started int64
		if err := rows.Scan(&d.CallID, &d.Platform, &d.DeviceID, &d.ChannelID, &d.Transport, &d.Remote, &d.Target,
			&d.FromTag, &d.ToTag, &cseq, &started); err != nil {
			return nil, fmt.Errorf("gb28181 dialogs: %w", err)
		}
		d.CSeq, d.StartedAt = uint32(cseq), FromMicros(started)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("gb28181 dialogs: %w", err)
	}
	return out, nil
}
