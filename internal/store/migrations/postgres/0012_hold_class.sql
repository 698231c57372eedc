-- Hold classes (issue 13 point 10): a hold of class 'important' is placed under the pack's
-- important_footage_days option and cannot be released before kept_until (microseconds; the
-- end of the footage it holds plus that period), so the cleaner, which keeps whatever an
-- active hold covers, keeps the footage at least that long. '' is an ordinary hold.
ALTER TABLE legal_holds ADD COLUMN class TEXT NOT NULL DEFAULT '';
ALTER TABLE legal_holds ADD COLUMN kept_until BIGINT;
