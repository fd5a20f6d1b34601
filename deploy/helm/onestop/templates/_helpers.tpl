{{/* Names and labels shared by every object. */}}
{{- define "onestop.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "onestop.labels" -}}
app.kubernetes.io/name: onestop
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* The selector of one service's pods: call with (dict "root" $ "service" "cases"). */}}
{{- define "onestop.selector" -}}
app.kubernetes.io/name: onestop
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .service }}
{{- end -}}

{{/* The secret settings each service reads, as its settings.py declares them (no defaults in code).
     A key marked optional may be absent from the Secret (the feature it serves is then off). */}}
{{- define "onestop.secretSettings" -}}
intake:
  - {key: INTAKE_OPEN311_API_KEYS}
cases:
  - {key: CASES_SEARCH_KEY}
notify:
  - {key: NOTIFY_WEBHOOK_SECRET}
  - {key: NOTIFY_SURVEY_SECRET}
  - {key: NOTIFY_GOVUK_API_KEY, optional: true}
{{- end -}}

{{/* A service's Kafka user: the contracts' username, behind the installation's prefix. */}}
{{- define "onestop.kafkaUser" -}}
{{- printf "%s%s" .root.Values.kafka.strimzi.userPrefix .username -}}
{{- end -}}

{{- define "onestop.kafkaContracts" -}}
{{- .Files.Get "contracts/kafka.yaml" -}}
{{- end -}}

{{/* Where the service's database is. */}}
{{- define "onestop.databaseHost" -}}
{{- if eq .Values.database.mode "cloudnativepg" -}}
{{- printf "%s-postgres-rw" (include "onestop.fullname" .) -}}
{{- else if eq .Values.database.mode "external" -}}
{{- required "database.external.host is required with database.mode=external" .Values.database.external.host -}}
{{- else -}}
{{- fail "database.mode must be cloudnativepg or external" -}}
{{- end -}}
{{- end -}}

{{- define "onestop.databasePort" -}}
{{- if eq .Values.database.mode "external" -}}{{ .Values.database.external.port }}{{- else -}}5432{{- end -}}
{{- end -}}

{{- define "onestop.usesSasl" -}}
{{- if hasPrefix "SASL" .Values.kafka.securityProtocol -}}true{{- end -}}
{{- end -}}

{{- define "onestop.usesTls" -}}
{{- if has .Values.kafka.securityProtocol (list "SSL" "SASL_SSL") -}}true{{- end -}}
{{- end -}}
