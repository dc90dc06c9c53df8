-- The API's one time format (apps.core.timeutil.iso_utc) in Lua: ISO 8601 in UTC with a
-- Z, to the second. Included (`--!include core/lua/iso_utc.lua`) by scripts whose event
-- carries a time only the script knows, such as a registration's expiry: Redis's Lua has
-- no os.date.
--
-- iso_utc(epoch_ms) -> '2024-12-01T10:46:40Z' (the milliseconds dropped, as Python's is)
--
-- The date comes from the day count by Howard Hinnant's civil_from_days, exact for every
-- day of the proleptic Gregorian calendar; Lua 5.1's numbers are doubles, exact here.
local function iso_utc(epoch_ms)
  local seconds = math.floor(tonumber(epoch_ms) / 1000)
  local days = math.floor(seconds / 86400)
  local of_day = seconds - days * 86400
  local z = days + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local day = doy - math.floor((153 * mp + 2) / 5) + 1
  local month = mp < 10 and mp + 3 or mp - 9
  local year = yoe + era * 400 + (month <= 2 and 1 or 0)
  return string.format('%04d-%02d-%02dT%02d:%02d:%02dZ', year, month, day,
    math.floor(of_day / 3600), math.floor(of_day % 3600 / 60), of_day % 60)
end
