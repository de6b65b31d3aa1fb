// Run by the one-off `mongo-init` service on every `docker compose up`: makes the
// server a single-member replica set (rs0) the first time, then waits until it is
// primary. Transactions and change streams need a replica set; more members can be
// added later with rs.add().
const members = [{ _id: 0, host: "mongo:27017" }];
try {
  const status = rs.status();
  print(`Replica set ${status.set} already initiated.`);
} catch (error) {
  if (error.codeName !== "NotYetInitialized") {
    throw error;
  }
  rs.initiate({ _id: "rs0", members: members });
  print("Replica set rs0 initiated.");
}
const deadline = Date.now() + 60000;
while (!db.hello().isWritablePrimary) {
  if (Date.now() > deadline) {
    throw new Error("No primary within 60 s");
  }
  sleep(500);
}
print("rs0 has a primary.");
