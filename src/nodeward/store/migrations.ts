import type { Kysely, Migration, MigrationProvider } from "kysely";

export type SqlDialect = "sqlite" | "postgres";

/**
 * Migrations live in code (no directory scan), so a bundled binary carries them. The DDL uses
 * only portable column types; the one dialect difference is the auto-increment id.
 */
export function migrationProvider(dialect: SqlDialect): MigrationProvider {
  return {
    getMigrations: async () => ({
      "0001_enrolment_and_link": initial(dialect),
      "0002_overlay": overlay(),
      "0003_roles": roles(),
      "0004_kubernetes": kubernetes(),
    }),
  };
}

function initial(dialect: SqlDialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable("tokens")
        .addColumn("token_hash", "text", (c) => c.primaryKey())
        .addColumn("aid", "text", (c) => c.notNull())
        .addColumn("cluster", "text", (c) => c.notNull())
        .addColumn("expires_at", "text", (c) => c.notNull())
        .addColumn("uses_left", "integer", (c) => c.notNull())
        .addColumn("created_at", "text", (c) => c.notNull())
        .execute();

      await db.schema
        .createTable("clusters")
        .addColumn("aid", "text", (c) => c.notNull())
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("created_at", "text", (c) => c.notNull())
        .addColumn("vip_holder", "text")
        .addColumn("vip_generation", "integer", (c) => c.notNull().defaultTo(0))
        .addPrimaryKeyConstraint("clusters_pk", ["aid", "name"])
        .execute();

      await db.schema
        .createTable("nodes")
        .addColumn("nid", "text", (c) => c.primaryKey())
        .addColumn("aid", "text", (c) => c.notNull())
        .addColumn("cluster", "text", (c) => c.notNull())
        .addColumn("machine_id", "text", (c) => c.notNull())
        .addColumn("os", "text", (c) => c.notNull())
        .addColumn("hostname", "text", (c) => c.notNull())
        .addColumn("created_at", "text", (c) => c.notNull())
        .addColumn("deleted_at", "text")
        .addColumn("replaced_by", "text")
        .addColumn("last_seen_at", "text")
        .addColumn("observed_addr", "text")
        .addColumn("version", "text")
        .addColumn("is_cp", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("is_worker", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("k8s_status", "text")
        .addColumn("external_ip", "text")
        .addColumn("node_ip", "text")
        .addColumn("vpn_ip", "text")
        .addColumn("install_status", "text")
        .addColumn("install_status_at", "text")
        .addColumn("vpn_pub_key", "text")
        .addColumn("vpn_endpoint", "text")
        .addColumn("node_is_ready", "integer", (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.createIndex("nodes_machine").on("nodes").columns(["aid", "machine_id"]).execute();

      await db.schema
        .createTable("certificates")
        .addColumn("serial", "text", (c) => c.primaryKey())
        .addColumn("nid", "text", (c) => c.notNull())
        .addColumn("not_before", "text", (c) => c.notNull())
        .addColumn("not_after", "text", (c) => c.notNull())
        .addColumn("created_at", "text", (c) => c.notNull())
        .addColumn("revoked_at", "text")
        .addColumn("superseded_at", "text")
        .execute();
      await db.schema.createIndex("certificates_nid").on("certificates").column("nid").execute();

      let nodelogs = db.schema.createTable("nodelogs");
      nodelogs =
        dialect === "postgres"
          ? nodelogs.addColumn("id", "bigserial", (c) => c.primaryKey())
          : nodelogs.addColumn("id", "integer", (c) => c.primaryKey().autoIncrement());
      await nodelogs
        .addColumn("nid", "text", (c) => c.notNull())
        .addColumn("time", "text", (c) => c.notNull())
        .addColumn("type", "text", (c) => c.notNull())
        .addColumn("severity", "integer", (c) => c.notNull())
        .addColumn("message", "text", (c) => c.notNull())
        .addColumn("code", "text", (c) => c.notNull())
        .addColumn("cause", "text", (c) => c.notNull())
        .addColumn("remedy", "text", (c) => c.notNull())
        .addColumn("docs_url", "text", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("nodelogs_nid").on("nodelogs").columns(["nid", "id"]).execute();
    },
  };
}

/** Overlay addressing: a /24 per cluster, an address per node, wg1 users. */
function overlay(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable("clusters").addColumn("idx", "integer").execute();
      await db.schema.createIndex("clusters_idx").unique().on("clusters").column("idx").execute();
      await db.schema.alterTable("nodes").addColumn("overlay_ip", "text").execute();
      await db.schema.alterTable("nodes").addColumn("listen_port", "integer").execute();
      await db.schema.alterTable("nodes").addColumn("install_ip", "text").execute();
      // NULLs do not collide, so freed addresses (NULL) never block a new allocation.
      await db.schema
        .createIndex("nodes_overlay_ip")
        .unique()
        .on("nodes")
        .columns(["aid", "cluster", "overlay_ip"])
        .execute();
      await db.schema
        .createTable("users")
        .addColumn("aid", "text", (c) => c.notNull())
        .addColumn("cluster", "text", (c) => c.notNull())
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("ip", "text", (c) => c.notNull())
        .addColumn("public_key", "text", (c) => c.notNull())
        .addColumn("created_at", "text", (c) => c.notNull())
        .addPrimaryKeyConstraint("users_pk", ["aid", "cluster", "name"])
        .execute();
      await db.schema.createIndex("users_ip").unique().on("users").column("ip").execute();
    },
  };
}

/** A node's role in its cluster: set by operators now, by Kubernetes facts later. */
function roles(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .alterTable("nodes")
        .addColumn("role", "text", (c) => c.notNull().defaultTo("worker"))
        .execute();
    },
  };
}

/** Kubernetes bootstrap state per cluster, and each node's pod range once it is handed a Kubernetes list. */
function kubernetes(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable("kubernetes_clusters")
        .addColumn("aid", "text", (c) => c.notNull())
        .addColumn("cluster", "text", (c) => c.notNull())
        .addColumn("state", "text", (c) => c.notNull())
        .addColumn("version", "text", (c) => c.notNull())
        .addColumn("init_node", "text", (c) => c.notNull())
        .addColumn("cp_join_node", "text")
        .addColumn("cp_join_at", "text")
        .addColumn("changed_at", "text", (c) => c.notNull())
        .addPrimaryKeyConstraint("kubernetes_clusters_pk", ["aid", "cluster"])
        .execute();
      await db.schema.alterTable("nodes").addColumn("pod_cidr", "text").execute();
      // The role a node enrolled with this token gets (a control-plane machine needs no second step).
      await db.schema
        .alterTable("tokens")
        .addColumn("role", "text", (c) => c.notNull().defaultTo("worker"))
        .execute();
    },
  };
}
