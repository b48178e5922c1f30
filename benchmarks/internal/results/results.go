// Package results defines the JSON documents that the measuring commands
// write to results/ and cmd/report reads: one definition for both sides.
package results

// Redis is the output of cmd/rediscount (results/redis.json): the Redis
// commands of the hot path and the bytes of a local-view entry.
type Redis struct {
	RedisVersion     string            `json:"redisVersion"`
	Users            int               `json:"users"`
	WarmupRequests   int               `json:"warmupRequests"`
	Requests         int               `json:"requests"`
	Concurrency      int               `json:"concurrency"`
	WindowMillis     float64           `json:"windowMillis"`
	CommandsDelta    map[string]int64  `json:"commandsDelta"`    // every command whose calls changed, the INFO snapshot excluded
	RequestCommands  int64             `json:"requestCommands"`  // CommandsDelta without the subscriber's ping
	BackgroundPings  int64             `json:"backgroundPings"`  // the subscriber's freshness pings in the window
	BackgroundChecks int64             `json:"backgroundChecks"` // the store's health check in the window (INFO memory, the marker script)
	StoreDelta       map[string]uint64 `json:"storeStatsDelta"`  // redisstore.Stats counters over the window
	ViewEntryBytes   float64           `json:"viewEntryBytes"`   // live heap per local-view entry
	ViewEntries      int               `json:"viewEntries"`      // users added to measure it
	ViewEntryLookups uint64            `json:"viewEntryLookups"` // Redis lookups those users cost (one each)
}

// Memory is the output of cmd/memsize (results/memsize.json): the bytes
// per entry of the token cache and of the in-process store.
type Memory struct {
	CacheEntryBytes    float64 `json:"cacheEntryBytes"`
	CacheEntries       int     `json:"cacheEntries"`
	TokenBytes         int     `json:"tokenBytes"`
	MemoryRecordBytes  float64 `json:"memoryRecordBytes"`
	MemoryRecords      int     `json:"memoryRecords"`
	GoVersion          string  `json:"goVersion"`
	MeasuredWithMethod string  `json:"method"`
}
