package redisstore

import "time"

// KeyForTest is the documented key of the user (wire version 2).
func KeyForTest(prefix, pool, sub string) string {
	k, _ := newWire(prefix, DefaultChannels).key(pool, sub)
	return k
}

// ChannelForTest is the documented sign-out channel of the user with the
// default number of channels.
func ChannelForTest(prefix, pool, sub string) string {
	w := newWire(prefix, DefaultChannels)
	_, i := w.key(pool, sub)
	return w.channel(i)
}

// ChannelNameForTest is sign-out channel i with the default number of
// channels.
func ChannelNameForTest(prefix string, i int) string {
	return newWire(prefix, DefaultChannels).channel(i)
}

// SetHealthEveryForTest sets the health-check period until the test ends.
func SetHealthEveryForTest(t interface{ Cleanup(func()) }, d time.Duration) {
	old := healthEvery
	healthEvery = d
	t.Cleanup(func() { healthEvery = old })
}

// AckChannelForTest is instance id's acknowledgement channel in the slot
// of the user's sign-out channel, with the default number of channels.
func AckChannelForTest(prefix, pool, sub, id string) string {
	w := newWire(prefix, DefaultChannels)
	_, i := w.key(pool, sub)
	return w.ackChannel(i, id)
}
