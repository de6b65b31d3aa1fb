// Runs once, on the first start of an empty volume, as root (the image's initdb step).
// The web app connects as this user: read and write the application's database (which
// includes creating its indexes), nothing else. Root stays for administration only.
const name = process.env.MONGO_APP_USERNAME;
const password = process.env.MONGO_APP_PASSWORD;
const database = process.env.MONGO_APP_DATABASE;
if (!name || !password || !database) {
  throw new Error("MONGO_APP_USERNAME, MONGO_APP_PASSWORD and MONGO_APP_DATABASE must be set");
}
db.getSiblingDB("admin").createUser({
  user: name,
  pwd: password,
  roles: [{ role: "readWrite", db: database }],
});
print(`Created ${name} with readWrite on ${database}.`);
