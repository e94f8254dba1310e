-- wrk script for benches/throughput.rs: replays the exact ListRooms request the SDKs send.
-- POST /twirp/livekit.RoomService/ListRooms with an empty protobuf body (an empty
-- ListRoomsRequest encodes to zero bytes) and a long-lived roomList token from LKTOP_BENCH_TOKEN.
local token = os.getenv("LKTOP_BENCH_TOKEN")
if not token or token == "" then
  -- wrk only prints a failed assert and goes on sending, unauthenticated; stop instead.
  io.stderr:write("wrk_list_rooms.lua: LKTOP_BENCH_TOKEN is not set\n")
  os.exit(2)
end
wrk.method = "POST"
wrk.path = "/twirp/livekit.RoomService/ListRooms"
wrk.body = ""
wrk.headers["Content-Type"] = "application/protobuf"
wrk.headers["Authorization"] = "Bearer " .. token
