// libpq wrappers.
//
// Why these choices:
// - PQexecParams with text parameters for every statement: values never become SQL text, so a
//   handle like "x'; DROP TABLE users; --" is only ever a value.
// - connect_timeout defaults to 10 s (libpq's default is to wait forever); a URL that sets its
//   own wins because the expanded URL is applied after our default (PQconnectdbParams with
//   expand_dbname).
// - Error messages never include the connection string: it may carry a password.
// - A connection handed back broken or inside a transaction (a caller that returned early) is
//   closed rather than reused, so one failure cannot poison the next caller's statement.
#include "identity/postgres.h"

#include <cstdlib>
#include <utility>

namespace cruddur::identity::pg {
namespace {

void IgnoreNotice(void*, const char*) {}

std::string TrimmedError(const char* message) {
  std::string text = message == nullptr ? "" : message;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

std::string Field(const PGresult* result, int field) {
  const char* value = PQresultErrorField(result, field);
  return value == nullptr ? std::string() : std::string(value);
}

}  // namespace

std::string PgResult::Text(int row, int column) const {
  const char* value = PQgetvalue(result_.get(), row, column);
  return std::string(value, static_cast<std::size_t>(PQgetlength(result_.get(), row, column)));
}

int PgResult::AffectedRows() const {
  const char* count = PQcmdTuples(result_.get());
  return (count == nullptr || *count == '\0') ? 0 : std::atoi(count);
}

Result<PgConnection> PgConnection::Connect(const std::string& conninfo) {
  const char* keywords[] = {"connect_timeout", "dbname", nullptr};
  const char* values[] = {"10", conninfo.c_str(), nullptr};
  PgConnection conn(PQconnectdbParams(keywords, values, /*expand_dbname=*/1));
  if (!conn.conn_) return IoError("cannot connect to PostgreSQL: out of memory");
  if (PQstatus(conn.conn_.get()) != CONNECTION_OK) {
    return IoError("cannot connect to PostgreSQL: " +
                   TrimmedError(PQerrorMessage(conn.conn_.get())));
  }
  PQsetNoticeProcessor(conn.conn_.get(), IgnoreNotice, nullptr);
  CRUDDUR_ASSIGN_OR_RETURN(PgResult ignored, conn.Exec("SET TIME ZONE 'UTC'"));
  return conn;
}

Result<PgResult> PgConnection::Exec(const char* sql,
                                    const std::vector<std::optional<std::string>>& params,
                                    PgError* error) {
  std::vector<const char*> values;
  std::vector<int> lengths;
  values.reserve(params.size());
  lengths.reserve(params.size());
  for (const std::optional<std::string>& param : params) {
    values.push_back(param ? param->c_str() : nullptr);
    lengths.push_back(param ? static_cast<int>(param->size()) : 0);
  }
  PGresult* raw = PQexecParams(conn_.get(), sql, static_cast<int>(params.size()), nullptr,
                               values.data(), lengths.data(), nullptr, /*resultFormat=*/0);
  PgResult result(raw);
  ExecStatusType status = PQresultStatus(raw);
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return result;
  std::string message = TrimmedError(PQerrorMessage(conn_.get()));
  if (error != nullptr) {
    error->sqlstate = Field(raw, PG_DIAG_SQLSTATE);
    error->constraint = Field(raw, PG_DIAG_CONSTRAINT_NAME);
    error->message = message;
  }
  return IoError("PostgreSQL: " + message);
}

bool PgConnection::Reusable() const {
  return PQstatus(conn_.get()) == CONNECTION_OK && PQtransactionStatus(conn_.get()) == PQTRANS_IDLE;
}

PgPool::Lease::Lease(Lease&& other) noexcept : pool_(other.pool_), conn_(std::move(other.conn_)) {
  other.conn_.reset();
}

PgPool::Lease::~Lease() {
  if (conn_) pool_->Return(std::move(*conn_));
}

Result<std::unique_ptr<PgPool>> PgPool::Create(PgPoolOptions options) {
  if (options.max_connections == 0) return ValidationError("pool needs at least one connection");
  std::unique_ptr<PgPool> pool(new PgPool(std::move(options)));
  CRUDDUR_ASSIGN_OR_RETURN(PgConnection first, PgConnection::Connect(pool->options_.conninfo));
  pool->idle_.push_back(std::move(first));
  pool->open_ = 1;
  return pool;
}

Result<PgPool::Lease> PgPool::Acquire() {
  std::unique_lock lock(mu_);
  bool ready = returned_.wait_for(lock, options_.acquire_timeout, [this] {
    return !idle_.empty() || open_ < options_.max_connections;
  });
  if (!ready) {
    return IoError("no PostgreSQL connection free within " +
                   std::to_string(options_.acquire_timeout.count()) + " ms");
  }
  if (!idle_.empty()) {
    PgConnection conn = std::move(idle_.back());
    idle_.pop_back();
    return Lease(this, std::move(conn));
  }
  // Connect outside the lock: it takes a round trip or more, and other callers may be served
  // from the idle list meanwhile. The slot is counted now so the bound holds.
  ++open_;
  lock.unlock();
  Result<PgConnection> conn = PgConnection::Connect(options_.conninfo);
  if (!conn.ok()) {
    lock.lock();
    --open_;
    returned_.notify_one();
    return conn.TakeStatus();
  }
  return Lease(this, std::move(conn).value());
}

void PgPool::Return(PgConnection conn) {
  std::lock_guard lock(mu_);
  if (conn.Reusable()) {
    idle_.push_back(std::move(conn));
  } else {
    --open_;
  }
  returned_.notify_one();
}

std::size_t PgPool::open_connections() {
  std::lock_guard lock(mu_);
  return open_;
}

}  // namespace cruddur::identity::pg
