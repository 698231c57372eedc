package policy

// The zone database is embedded so that a pack's time_zone loads on a machine without
// /usr/share/zoneinfo (a scratch container): the city's local time must not depend on the host.
import _ "time/tzdata"
