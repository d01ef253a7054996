package dev.perdura.server.visibility;

import dev.perdura.server.store.VisibilityFilter;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Turns a Temporal list filter ({@code WorkflowType = 'Order' AND StartTime > '2026-01-01T00:00:00Z'
 * ORDER BY StartTime DESC}) into a {@link VisibilityFilter}: portable SQL over the executions table with every
 * value bound as a parameter, so nothing a client writes reaches the SQL text.
 *
 * <p>The subset is what the SDKs and the CLI send: comparisons ({@code = != <> > >= < <=}), {@code AND},
 * {@code OR}, parentheses, {@code IN} / {@code NOT IN}, {@code BETWEEN ... AND ...}, {@code STARTS_WITH},
 * {@code IS [NOT] NULL} and {@code ORDER BY}. Fields are the built-in search attributes listed in
 * {@link #FIELDS}; times are RFC 3339 strings or epoch nanoseconds; {@code ExecutionStatus} takes the status
 * names ({@code Running}, {@code Completed}, ...) or their numbers.
 */
public final class ListFilterParser {

  private enum Kind { KEYWORD, TIME, STATUS, NUMBER }

  private record Field(String column, Kind kind) {}

  /** Built-in search attributes, by their Temporal names. */
  static final Map<String, Field> FIELDS = Map.of(
      "WorkflowId", new Field("workflow_id", Kind.KEYWORD),
      "RunId", new Field("run_id", Kind.KEYWORD),
      "WorkflowType", new Field("workflow_type", Kind.KEYWORD),
      "TaskQueue", new Field("task_queue", Kind.KEYWORD),
      "ExecutionStatus", new Field("status", Kind.STATUS),
      "StartTime", new Field("start_time", Kind.TIME),
      "CloseTime", new Field("close_time", Kind.TIME),
      "ExecutionTime", new Field("execution_time", Kind.TIME),
      "HistoryLength", new Field("history_length", Kind.NUMBER));

  private static final Map<String, Integer> STATUSES = Map.of(
      "running", 1, "completed", 2, "failed", 3, "canceled", 4,
      "terminated", 5, "continuedasnew", 6, "timedout", 7);

  private ListFilterParser() {}

  /** Parses {@code query}; a blank query selects everything in the default order. */
  public static VisibilityFilter toSql(String query) {
    if (query == null || query.isBlank()) {
      return VisibilityFilter.all();
    }
    return new Parser(query, tokenize(query)).parse();
  }

  // ---- tokens ----------------------------------------------------------------------------------

  private enum T { WORD, STRING, NUMBER, OP, LPAREN, RPAREN, COMMA, END }

  private record Token(T type, String text, int position) {
    boolean isWord(String word) {
      return type == T.WORD && text.equalsIgnoreCase(word);
    }

    String describe() {
      return type == T.END ? "end of query" : "'" + text + "' at position " + position;
    }
  }

  private static List<Token> tokenize(String q) {
    List<Token> tokens = new ArrayList<>();
    int i = 0;
    while (i < q.length()) {
      char c = q.charAt(i);
      if (Character.isWhitespace(c)) {
        i++;
      } else if (c == '(' || c == ')' || c == ',') {
        tokens.add(new Token(c == '(' ? T.LPAREN : c == ')' ? T.RPAREN : T.COMMA, String.valueOf(c), i));
        i++;
      } else if (c == '\'' || c == '"' || c == '`') {
        int start = i;
        StringBuilder text = new StringBuilder();
        i++;
        while (true) {
          if (i >= q.length()) {
            throw new InvalidListFilterException("unterminated " + c + " quote starting at position " + start);
          }
          char d = q.charAt(i);
          if (d == '\\' && i + 1 < q.length()) {
            text.append(q.charAt(i + 1));
            i += 2;
          } else if (d == c && i + 1 < q.length() && q.charAt(i + 1) == c) {
            text.append(c);
            i += 2;
          } else if (d == c) {
            i++;
            break;
          } else {
            text.append(d);
            i++;
          }
        }
        // Backticks quote a field name; quotes make a value.
        tokens.add(new Token(c == '`' ? T.WORD : T.STRING, text.toString(), start));
      } else if ("=!<>".indexOf(c) >= 0) {
        int start = i;
        String op = (i + 1 < q.length() && q.charAt(i + 1) == '=') || (c == '<' && i + 1 < q.length() && q.charAt(i + 1) == '>')
            ? q.substring(i, i + 2) : String.valueOf(c);
        if (op.equals("!")) {
          throw new InvalidListFilterException("unexpected '!' at position " + start);
        }
        tokens.add(new Token(T.OP, op, start));
        i += op.length();
      } else if (Character.isDigit(c) || (c == '-' && i + 1 < q.length() && Character.isDigit(q.charAt(i + 1)))) {
        int start = i++;
        while (i < q.length() && (Character.isDigit(q.charAt(i)) || q.charAt(i) == '.')) {
          i++;
        }
        tokens.add(new Token(T.NUMBER, q.substring(start, i), start));
      } else if (Character.isLetter(c) || c == '_') {
        int start = i;
        while (i < q.length() && (Character.isLetterOrDigit(q.charAt(i)) || q.charAt(i) == '_' || q.charAt(i) == '.')) {
          i++;
        }
        tokens.add(new Token(T.WORD, q.substring(start, i), start));
      } else {
        throw new InvalidListFilterException("unexpected character '" + c + "' at position " + i);
      }
    }
    tokens.add(new Token(T.END, "", q.length()));
    return tokens;
  }

  // ---- grammar ---------------------------------------------------------------------------------

  private static final class Parser {
    private final String query;
    private final List<Token> tokens;
    private final List<Object> params = new ArrayList<>();
    private int next;

    Parser(String query, List<Token> tokens) {
      this.query = query;
      this.tokens = tokens;
    }

    VisibilityFilter parse() {
      String where = "1=1";
      if (!peek().isWord("ORDER") && peek().type() != T.END) {
        where = orExpression();
      }
      String orderBy = VisibilityFilter.DEFAULT_ORDER;
      if (peek().isWord("ORDER")) {
        take();
        expectWord("BY");
        orderBy = orderList();
      }
      if (peek().type() != T.END) {
        throw error("unexpected " + peek().describe());
      }
      return new VisibilityFilter(where, params, orderBy);
    }

    private String orExpression() {
      StringBuilder sql = new StringBuilder(andExpression());
      while (peek().isWord("OR")) {
        take();
        sql.append(" OR ").append(andExpression());
      }
      return sql.toString();
    }

    private String andExpression() {
      StringBuilder sql = new StringBuilder(primary());
      while (peek().isWord("AND")) {
        take();
        sql.append(" AND ").append(primary());
      }
      return sql.toString();
    }

    private String primary() {
      if (peek().type() == T.LPAREN) {
        take();
        String inner = orExpression();
        expect(T.RPAREN, "')'");
        return "(" + inner + ")";
      }
      return predicate();
    }

    private String predicate() {
      Field field = field(take());
      Token op = take();
      if (op.type() == T.OP) {
        String sqlOp = op.text().equals("!=") ? "<>" : op.text();
        return guardClose(field, field.column() + " " + sqlOp + " ?", value(field));
      }
      if (op.isWord("IS")) {
        boolean not = peek().isWord("NOT");
        if (not) {
          take();
        }
        expectWord("NULL");
        if (field.column().equals("close_time")) {
          return not ? "close_time <> 0" : "close_time = 0";
        }
        return not ? "1=1" : "1=0";
      }
      boolean not = op.isWord("NOT");
      if (not) {
        op = take();
      }
      if (op.isWord("IN")) {
        expect(T.LPAREN, "'(' after IN");
        List<String> marks = new ArrayList<>();
        List<Object> values = new ArrayList<>();
        do {
          values.add(value(field));
          marks.add("?");
        } while (takeIf(T.COMMA));
        expect(T.RPAREN, "')' closing the IN list");
        return guardClose(field, field.column() + (not ? " NOT IN (" : " IN (") + String.join(", ", marks) + ")",
            values.toArray());
      }
      if (op.isWord("BETWEEN")) {
        Object low = value(field);
        expectWord("AND");
        Object high = value(field);
        return guardClose(field, field.column() + (not ? " NOT BETWEEN ? AND ?" : " BETWEEN ? AND ?"), low, high);
      }
      if (op.isWord("STARTS_WITH") && !not) {
        if (field.kind() != Kind.KEYWORD) {
          throw error("STARTS_WITH needs a text field, not " + op.describe());
        }
        String prefix = (String) value(field);
        // Not LIKE: SQLite's LIKE ignores case, and a prefix match is case-sensitive everywhere else.
        return guardClose(field, "substr(" + field.column() + ", 1, ?) = ?", prefix.codePointCount(0, prefix.length()), prefix);
      }
      throw error("expected an operator after the field, found " + op.describe());
    }

    /** Running executions keep close_time 0 (no close time): no comparison may match them. */
    private String guardClose(Field field, String sql, Object... values) {
      params.addAll(List.of(values));
      return field.column().equals("close_time") ? "(close_time <> 0 AND " + sql + ")" : sql;
    }

    private String orderList() {
      List<String> parts = new ArrayList<>();
      do {
        Field field = field(take());
        String direction = "ASC";
        if (peek().isWord("ASC") || peek().isWord("DESC")) {
          direction = take().text().toUpperCase(Locale.ROOT);
        }
        parts.add(field.column() + " " + direction);
      } while (takeIf(T.COMMA));
      // A stable tie-break keeps offset paging from skipping or repeating rows.
      parts.add("run_id");
      return String.join(", ", parts);
    }

    private Field field(Token token) {
      if (token.type() != T.WORD) {
        throw error("expected a field name, found " + token.describe());
      }
      Field field = FIELDS.get(token.text());
      if (field == null) {
        throw error("unknown search attribute '" + token.text() + "' at position " + token.position()
            + "; this server filters on " + String.join(", ", new java.util.TreeSet<>(FIELDS.keySet())));
      }
      return field;
    }

    private Object value(Field field) {
      Token token = take();
      return switch (field.kind()) {
        case KEYWORD -> {
          if (token.type() != T.STRING) {
            throw error("expected a quoted string, found " + token.describe());
          }
          yield token.text();
        }
        case NUMBER -> {
          if (token.type() != T.NUMBER) {
            throw error("expected a number, found " + token.describe());
          }
          yield wholeNumber(token);
        }
        case STATUS -> {
          if (token.type() == T.NUMBER) {
            yield Math.toIntExact(wholeNumber(token));
          }
          Integer status = token.type() == T.STRING || token.type() == T.WORD
              ? STATUSES.get(token.text().toLowerCase(Locale.ROOT)) : null;
          if (status == null) {
            throw error("unknown execution status " + token.describe()
                + "; expected Running, Completed, Failed, Canceled, Terminated, ContinuedAsNew or TimedOut");
          }
          yield status;
        }
        case TIME -> {
          if (token.type() == T.NUMBER) {
            yield wholeNumber(token) / 1_000_000L;
          }
          if (token.type() != T.STRING) {
            throw error("expected a time (RFC 3339 string or epoch nanoseconds), found " + token.describe());
          }
          try {
            yield OffsetDateTime.parse(token.text()).toInstant().toEpochMilli();
          } catch (DateTimeParseException e) {
            throw error("invalid time " + token.describe() + ": expected RFC 3339, like 2026-01-02T15:04:05Z");
          }
        }
      };
    }

    private long wholeNumber(Token token) {
      try {
        return Long.parseLong(token.text());
      } catch (NumberFormatException e) {
        throw error("expected a whole number, found " + token.describe());
      }
    }

    private Token peek() {
      return tokens.get(next);
    }

    private Token take() {
      Token token = tokens.get(next);
      if (token.type() != T.END) {
        next++;
      }
      return token;
    }

    private boolean takeIf(T type) {
      if (peek().type() == type) {
        next++;
        return true;
      }
      return false;
    }

    private void expect(T type, String what) {
      if (!takeIf(type)) {
        throw error("expected " + what + ", found " + peek().describe());
      }
    }

    private void expectWord(String word) {
      if (!peek().isWord(word)) {
        throw error("expected " + word + ", found " + peek().describe());
      }
      take();
    }

    private InvalidListFilterException error(String message) {
      return new InvalidListFilterException("invalid query \"" + query + "\": " + message);
    }
  }
}
