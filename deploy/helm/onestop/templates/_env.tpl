{{/* The container settings every process of a service gets (the service itself and its rebuild job):
     call with (dict "root" $ "name" "cases" "svc" .Values.services.cases). */}}
{{- define "onestop.env" -}}
{{- $root := .root -}}
{{- $name := .name -}}
{{- $svc := .svc -}}
{{- $upper := upper $name -}}
{{- $secretSettings := include "onestop.secretSettings" $root | fromYaml -}}
{{- $contracts := include "onestop.kafkaContracts" $root | fromYaml -}}
{{- $username := "" -}}
{{- range $contracts.users }}{{ if eq .service $name }}{{ $username = include "onestop.kafkaUser" (dict "root" $root "username" .username) }}{{ end }}{{ end -}}
- name: {{ $upper }}_HTTP_HOST
  value: "0.0.0.0"
- name: {{ $upper }}_HTTP_PORT
  value: {{ $svc.port | quote }}
- name: TOPIC_NAMESPACE
  value: {{ $root.Values.topicNamespace | quote }}
- name: KAFKA_BOOTSTRAP_SERVERS
  value: {{ $root.Values.kafka.bootstrapServers | quote }}
- name: KAFKA_SECURITY_PROTOCOL
  value: {{ $root.Values.kafka.securityProtocol | quote }}
{{- if include "onestop.usesSasl" $root }}
- name: KAFKA_SASL_MECHANISM
  value: {{ $root.Values.kafka.saslMechanism | quote }}
- name: {{ $upper }}_KAFKA_SASL_USERNAME
  value: {{ $username | quote }}
# The user's password, in a Secret named after the user (Strimzi's User Operator makes it).
- name: {{ $upper }}_KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef: {name: {{ $username | quote }}, key: password}
{{- end }}
{{- if and (include "onestop.usesTls" $root) $root.Values.kafka.caSecret.name }}
- name: KAFKA_SSL_CAFILE
  value: /etc/onestop/kafka-ca/{{ $root.Values.kafka.caSecret.key }}
{{- end }}
- name: ONESTOP_AUTH_SECRET
  valueFrom:
    secretKeyRef: {name: {{ $root.Values.platformSecret | quote }}, key: ONESTOP_AUTH_SECRET}
- name: PERSONAL_DATA_KEK
  valueFrom:
    secretKeyRef: {name: {{ $root.Values.platformSecret | quote }}, key: PERSONAL_DATA_KEK}
# Only while the key-encryption key is rotated (docs/operations.md): the key it replaces.
- name: PERSONAL_DATA_PREVIOUS_KEKS
  valueFrom:
    secretKeyRef: {name: {{ $root.Values.platformSecret | quote }}, key: PERSONAL_DATA_PREVIOUS_KEKS, optional: true}
{{- range (get $secretSettings $name | default list) }}
- name: {{ .key }}
  valueFrom:
    secretKeyRef:
      name: {{ required (printf "services.%s.secret names the Secret holding %s" $name .key) $svc.secret | quote }}
      key: {{ .key }}
      {{- if .optional }}
      optional: true
      {{- end }}
{{- end }}
- name: DATABASE_USERNAME
  valueFrom:
    secretKeyRef: {name: {{ required (printf "services.%s.databaseSecret is required" $name) $svc.databaseSecret | quote }}, key: username}
- name: DATABASE_PASSWORD
  valueFrom:
    secretKeyRef: {name: {{ $svc.databaseSecret | quote }}, key: password}
# Kubernetes puts the two above into the URL; the password must be URL-safe (e.g. hex).
- name: {{ $upper }}_DATABASE_URL
  value: "postgresql://$(DATABASE_USERNAME):$(DATABASE_PASSWORD)@{{ include "onestop.databaseHost" $root }}:{{ include "onestop.databasePort" $root }}/onestop_{{ $name }}?sslmode={{ $root.Values.database.sslmode }}"
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ $root.Values.otel.endpoint | quote }}
- name: OTEL_TRACES_SAMPLE_RATIO
  value: {{ $root.Values.otel.tracesSampleRatio | quote }}
- name: OTEL_METRIC_EXPORT_INTERVAL
  value: {{ $root.Values.otel.metricExportIntervalMs | quote }}
{{- range $key, $value := $svc.env }}
- name: {{ $key }}
  value: {{ $value | quote }}
{{- end }}
{{- end -}}

{{- define "onestop.volumeMounts" -}}
{{- $root := . -}}
- {name: tmp, mountPath: /tmp}
{{- if and (include "onestop.usesTls" $root) $root.Values.kafka.caSecret.name }}
- {name: kafka-ca, mountPath: /etc/onestop/kafka-ca, readOnly: true}
{{- end }}
{{- end -}}

{{- define "onestop.volumes" -}}
{{- $root := . -}}
- name: tmp
  emptyDir: {sizeLimit: 256Mi}
{{- if and (include "onestop.usesTls" $root) $root.Values.kafka.caSecret.name }}
- name: kafka-ca
  secret:
    secretName: {{ $root.Values.kafka.caSecret.name | quote }}
    items:
      - {key: {{ $root.Values.kafka.caSecret.key }}, path: {{ $root.Values.kafka.caSecret.key }}}
{{- end }}
{{- end -}}
